"""Open Badges 3.0 credentials: a milestone as a W3C Verifiable Credential signed as a JWT.

``checkins`` holds no keys (the LTI layer does): the web layer passes a :data:`Signer`
that signs with the tool's active key, the one ``/lti/jwks`` publishes, and the key set
to verify against. A credential carries the milestone, the programme, the issuer and
the dates, and the member's name only when they chose to put it in; never notes,
goals, check-ins or survey answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records import Credential, Member, Milestone, Programme, Tenant, utcnow

from . import audit
from .errors import Conflict, InvalidInput, NotAllowed, NotFound
from .milestones import MILESTONE_TITLES, milestone_counts

# Signs a JWT payload with the tool's active key (``kid`` in the header).
Signer = Callable[[dict[str, Any]], str]
CONTEXT = [
    "https://www.w3.org/2018/credentials/v1",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
MAX_REASON = 500
DESCRIPTIONS = {
    "agreement_signed": "Signed a mentoring agreement with their partner.",
    "first_checkin": "Held and logged the first meeting of a mentoring pair.",
    "three_checkins": "Held three logged meetings in a mentoring pair.",
    "six_months": "Kept a mentoring relationship going for six months.",
    "programme_completed": "Completed a mentoring programme with their partner.",
    "hours_10": "Spent 10 hours in logged mentoring meetings.",
    "hours_25": "Spent 25 hours in logged mentoring meetings.",
    "hours_50": "Spent 50 hours in logged mentoring meetings.",
}


def credential_claims(
    credential_id: str,
    milestone: Milestone,
    programme: Programme,
    tenant: Tenant,
    issued_at: datetime,
    *,
    issuer_url: str,
    recipient_name: str | None,
) -> dict[str, Any]:
    """The JWT payload: an OpenBadgeCredential (VC Data Model 1.1, as OB 3.0 uses it).

    Built from these arguments alone, so nothing private can slip in.
    """
    urn = f"urn:uuid:{credential_id}"
    subject: dict[str, Any] = {
        # Not the member's id anywhere: an identifier of this credential's subject only.
        "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, urn)}",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": f"{issuer_url}/achievements/{milestone.kind}",
            "type": ["Achievement"],
            "name": MILESTONE_TITLES[milestone.kind],
            "description": DESCRIPTIONS[milestone.kind],
            "criteria": {
                "narrative": f"{DESCRIPTIONS[milestone.kind]} Programme: {programme.name}."
            },
        },
    }
    if recipient_name:
        subject["identifier"] = [
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": recipient_name,
            }
        ]
    issued = issued_at.replace(microsecond=0)
    vc = {
        "@context": CONTEXT,
        "id": urn,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{MILESTONE_TITLES[milestone.kind]}: {programme.name}",
        "issuer": {"id": issuer_url, "type": ["Profile"], "name": tenant.name},
        "issuanceDate": issued.isoformat().replace("+00:00", "Z"),
        "credentialSubject": subject,
    }
    return {
        "iss": issuer_url,
        "jti": urn,
        "sub": subject["id"],
        "nbf": int(issued.timestamp()),
        "iat": int(issued.timestamp()),
        "vc": vc,
    }


def _own_milestone(
    session: Session, tenant_id: int, member_id: int, milestone_id: int
) -> Milestone:
    milestone = session.scalars(
        select(Milestone).where(Milestone.id == milestone_id, Milestone.tenant_id == tenant_id)
    ).first()
    if milestone is None:
        raise NotFound("no such milestone")
    if milestone.member_id != member_id:
        raise NotAllowed("this milestone is someone else's")
    return milestone


def issue_credential(
    session: Session,
    tenant_id: int,
    member_id: int,
    milestone_id: int,
    *,
    show_name: bool,
    issuer_url: str,
    sign: Signer,
) -> Credential:
    """Issue the member's milestone as a signed credential (once; a second call returns it).

    Raises:
        NotFound, NotAllowed: not a milestone of this member in this tenant.
        Conflict: the credential was revoked (a coordinator decided; it is not re-issued).
    """
    milestone = _own_milestone(session, tenant_id, member_id, milestone_id)
    existing = session.scalars(
        select(Credential).where(
            Credential.tenant_id == tenant_id, Credential.milestone_id == milestone.id
        )
    ).first()
    if existing is not None:
        if existing.revoked_at is not None:
            raise Conflict("this credential was revoked by the programme's coordinator")
        return existing
    programme = session.get(Programme, milestone.programme_id)
    tenant = session.get(Tenant, tenant_id)
    member = session.get(Member, member_id)
    assert programme is not None and tenant is not None and member is not None  # foreign keys
    public_id = str(uuid.uuid4())
    now = utcnow()
    claims = credential_claims(
        public_id,
        milestone,
        programme,
        tenant,
        now,
        issuer_url=issuer_url.rstrip("/"),
        recipient_name=member.name if show_name else None,
    )
    credential = Credential(
        tenant_id=tenant_id,
        public_id=public_id,
        milestone_id=milestone.id,
        member_id=member_id,
        show_name=show_name,
        token=(token := sign(claims)),
        kid=jwt.get_unverified_header(token).get("kid"),
        issued_at=now,
    )
    try:
        with session.begin_nested():
            session.add(credential)
    except IntegrityError:
        raise Conflict("this credential was just issued: reload the page") from None
    audit.record(
        session, tenant_id, "credential.issued",
        actor_member_id=member_id, subject_type="Credential", subject_id=credential.id,
        detail={"milestone_id": milestone.id, "kind": milestone.kind, "show_name": show_name},
    )  # fmt: skip
    return credential


def own_credential(session: Session, tenant_id: int, member_id: int, public_id: str) -> Credential:
    """The member's own credential, for download.

    Raises:
        NotFound: no such credential of this member in this tenant.
    """
    credential = session.scalars(
        select(Credential).where(
            Credential.tenant_id == tenant_id,
            Credential.public_id == public_id,
            Credential.member_id == member_id,
        )
    ).first()
    if credential is None:
        raise NotFound("no such credential")
    return credential


def member_credentials(session: Session, tenant_id: int, member_id: int) -> dict[int, Credential]:
    """The member's credentials by milestone id."""
    rows = session.scalars(
        select(Credential).where(
            Credential.tenant_id == tenant_id, Credential.member_id == member_id
        )
    )
    return {c.milestone_id: c for c in rows}


@dataclass(frozen=True)
class IssuedCredential:
    """A credential on the coordinator's dashboard."""

    public_id: str
    member: str
    title: str
    issued_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None


def programme_credentials(
    session: Session, tenant_id: int, programme_id: int
) -> list[IssuedCredential]:
    """The credentials issued for a programme's milestones, newest first."""
    rows = session.execute(
        select(Credential, Milestone.kind, Member)
        .join(
            Milestone,
            (Milestone.id == Credential.milestone_id) & (Milestone.tenant_id == tenant_id),
        )
        .join(Member, (Member.id == Credential.member_id) & (Member.tenant_id == tenant_id))
        .where(Credential.tenant_id == tenant_id, Milestone.programme_id == programme_id)
        .order_by(Credential.issued_at.desc(), Credential.id.desc())
    ).all()
    return [
        IssuedCredential(
            c.public_id, m.name, MILESTONE_TITLES[kind], c.issued_at, c.revoked_at, c.revoked_reason
        )
        for c, kind, m in rows
    ]


def revoke_credential(
    session: Session,
    tenant_id: int,
    programme_id: int,
    public_id: str,
    coordinator_member_id: int | None,
    reason: str,
) -> Credential:
    """Revoke a credential of the programme, with a reason the verification page shows.

    Raises:
        InvalidInput: no reason, or one over :data:`MAX_REASON` characters.
        NotFound: not a credential of this programme in this tenant.
        Conflict: already revoked.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the credential is revoked: the verification page shows it")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"keep the reason under {MAX_REASON} characters")
    credential = session.scalars(
        select(Credential)
        .join(
            Milestone,
            (Milestone.id == Credential.milestone_id) & (Milestone.tenant_id == tenant_id),
        )
        .where(
            Credential.tenant_id == tenant_id,
            Credential.public_id == public_id,
            Milestone.programme_id == programme_id,
        )
    ).first()
    if credential is None:
        raise NotFound("no such credential in this programme")
    if credential.revoked_at is not None:
        raise Conflict(f"this credential was revoked on {credential.revoked_at:%d %B %Y}")
    credential.revoked_at = utcnow()
    credential.revoked_reason = reason
    credential.revoked_by_member_id = coordinator_member_id
    session.flush()
    audit.record(
        session, tenant_id, "credential.revoked",
        actor_member_id=coordinator_member_id, subject_type="Credential",
        subject_id=credential.id, detail={"programme_id": programme_id},
    )  # fmt: skip
    return credential


@dataclass(frozen=True)
class Verification:
    """What the public verification page says about a credential."""

    valid_signature: bool
    problem: str | None = None
    kid: str | None = None
    issuer: str | None = None
    issuer_url: str | None = None
    achievement: str | None = None
    description: str | None = None
    recipient: str | None = None
    issued: str | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    known: bool = False

    @property
    def valid(self) -> bool:
        return self.valid_signature and self.known and self.revoked_at is None


def verify_token(session: Session, token: str, key_set: dict[str, Any]) -> Verification:
    """Check a credential JWT's signature against the tool's published key set, then say
    who issued it, to whom and when, and whether it was revoked.

    Never raises on bad input: a token that is not one of ours says why.
    """
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return Verification(False, "This is not a signed credential (not a JWT).")
    kid = header.get("kid")
    if header.get("alg") != "RS256":
        return Verification(False, "The credential is not signed with RS256.", kid=kid)
    keys = {k.get("kid"): k for k in key_set.get("keys", [])}
    if kid not in keys:
        return Verification(
            False, "The credential is signed with a key this tool does not publish.", kid=kid
        )
    try:
        public = jwt.PyJWK.from_dict(keys[kid]).key
        claims = jwt.decode(
            token,
            public,
            algorithms=["RS256"],
            options={"verify_aud": False, "require": ["iss", "jti", "nbf"]},
        )
    except jwt.PyJWTError as exc:
        return Verification(False, f"The signature does not check out: {exc}.", kid=kid)
    vc = claims.get("vc") or {}
    subject = vc.get("credentialSubject") or {}
    achievement = subject.get("achievement") or {}
    names = [
        i.get("identityHash")
        for i in subject.get("identifier") or []
        if i.get("identityType") == "name" and not i.get("hashed")
    ]
    public_id = str(claims.get("jti", "")).removeprefix("urn:uuid:")
    credential = session.scalars(
        select(Credential).where(Credential.public_id == public_id)
    ).first()
    return Verification(
        valid_signature=True,
        kid=kid,
        issuer=(vc.get("issuer") or {}).get("name"),
        issuer_url=claims.get("iss"),
        achievement=achievement.get("name"),
        description=achievement.get("description"),
        recipient=names[0] if names else None,
        issued=vc.get("issuanceDate"),
        revoked_at=credential.revoked_at if credential else None,
        revoked_reason=credential.revoked_reason if credential else None,
        known=credential is not None,
        problem=None if credential else "Tandem has no record of issuing this credential.",
    )


def verify_public(session: Session, public_id: str, key_set: dict[str, Any]) -> Verification:
    """Verify the credential a public URL names (its stored token, as issued).

    Raises:
        NotFound: no credential with that id.
    """
    credential = session.scalars(
        select(Credential).where(Credential.public_id == public_id)
    ).first()
    if credential is None:
        raise NotFound("no such credential")
    return verify_token(session, credential.token, key_set)


def issuer_profile(session: Session, tenant_id: int, issuer_url: str, jwks_url: str) -> dict:
    """The issuer's Open Badges Profile (what a credential's ``issuer.id`` resolves to).

    Raises:
        NotFound: no such tenant.
    """
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("no such issuer")
    return {
        "@context": CONTEXT,
        "id": issuer_url,
        "type": ["Profile"],
        "name": tenant.name,
        # Where the signing keys are: the tool's LTI key set.
        "publicKey": jwks_url,
    }


@dataclass(frozen=True)
class Recognition:
    """The dashboard's recognition section: pairs per milestone, credentials issued."""

    milestones: dict[str, int]
    credentials: list[IssuedCredential]


def recognition(session: Session, tenant_id: int, programme_id: int) -> Recognition:
    """Milestones reached per pair and the credentials issued, for one programme."""
    return Recognition(
        milestone_counts(session, tenant_id, programme_id),
        programme_credentials(session, tenant_id, programme_id),
    )
