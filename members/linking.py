"""Who is who: link a record from any source to one member of the tenant.

Rules, strongest first (DESIGN.md, "Tenancy and identity"):

1. an identity already linked: the same ``(source, external_id)`` or one the record
   vouches for (a Moodle launch ``sub`` is the Moodle user id; a Canvas launch passes
   ``canvas_user_id``; an NRPS ``user_id`` is the launch ``sub``);
2. the organisation-wide member number;
3. the email address, compared case-insensitively (a configurable last resort).

One person may hold two accounts in one LMS: both identities link to the one member.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records import Identity, Member, utcnow

from .records import PersonRecord

_PROFILE_FIELDS = (
    "given_name",
    "family_name",
    "display_name",
    "email",
    "picture_url",
    "member_number",
    "time_zone",
)


@dataclass(frozen=True)
class LinkResult:
    """What :func:`link_member` did."""

    member: Member
    created: bool
    updated: bool
    new_identities: int


# Built once (every launch asks): the identities of a record and the member they name.
_IDENTIFIED = (
    select(Identity.source, Identity.external_id, Member)
    .join(Member, (Member.tenant_id == Identity.tenant_id) & (Member.id == Identity.member_id))
    .where(
        Identity.tenant_id == bindparam("tenant_id"),
        tuple_(Identity.source, Identity.external_id).in_(bindparam("pairs", expanding=True)),
    )
    .order_by(Identity.id)
)


def _identified(
    session: Session, tenant_id: int, pairs: list[tuple[str, str]]
) -> tuple[Member | None, set[tuple[str, str]]]:
    """The member the oldest of these identities names, and which of them exist: one
    query, since every launch asks both."""
    rows = session.execute(_IDENTIFIED, {"tenant_id": tenant_id, "pairs": pairs}).all()
    return (rows[0][2] if rows else None), {
        (source, external_id) for source, external_id, _ in rows
    }


def _member_by_rules(
    session: Session,
    tenant_id: int,
    record: PersonRecord,
    by_identity: Member | None,
    *,
    match_email: bool,
) -> Member | None:
    """The linking rules, strongest first: an identity, the member number, the email."""
    if by_identity is not None:
        return by_identity
    if record.member_number:
        member = session.scalars(
            select(Member).where(
                Member.tenant_id == tenant_id, Member.member_number == record.member_number
            )
        ).first()
        if member is not None:
            return member
    if match_email and record.email:
        return session.scalars(
            select(Member)
            .where(
                Member.tenant_id == tenant_id,
                func.lower(Member.email) == record.email.strip().lower(),
            )
            .order_by(Member.id)
            .limit(1)
        ).first()
    return None


def find_member(
    session: Session, tenant_id: int, record: PersonRecord, *, match_email: bool = True
) -> Member | None:
    """The tenant's member this record belongs to, or ``None``; writes nothing."""
    by_identity, _ = _identified(session, tenant_id, record.identities())
    return _member_by_rules(session, tenant_id, record, by_identity, match_email=match_email)


def apply_profile(member: Member, record: PersonRecord) -> bool:
    """Copy the fields the record carries onto the member; ``True`` if anything changed.

    Fields the record leaves empty are kept: a source that does not know a phone number
    or an email must not erase what another source said.
    """
    changed = False
    for name in _PROFILE_FIELDS:
        value = getattr(record, name)
        if value in (None, ""):
            continue
        if name == "email":
            value = value.strip()
        if getattr(member, name) != value:
            setattr(member, name, value)
            changed = True
    if not member.display_name:
        member.display_name = f"{member.given_name or ''} {member.family_name or ''}".strip()
    if record.active and not member.active:
        member.active, member.deactivated_at = True, None
        changed = True
    return changed


def link_member(
    session: Session,
    tenant_id: int,
    record: PersonRecord,
    *,
    match_email: bool = True,
    update_profile: bool = True,
) -> LinkResult:
    """Find or create the member for ``record``, update their profile, link every identity.

    With ``update_profile`` off, an existing member's profile is left as it is and only
    the identities are linked (a source that does not own the profile, such as a portal
    sign-in of a member the directory brought in). Idempotent: linking the same record
    twice changes nothing the second time. The caller owns the transaction.

    Two requests may link one person at once (a double click on the course's link):
    the one that inserts second finds the other's rows and links to them.
    """
    pairs = record.identities()
    by_identity, existing = _identified(session, tenant_id, pairs)
    member = _member_by_rules(session, tenant_id, record, by_identity, match_email=match_email)
    if member is not None and existing.issuperset(pairs):
        # The usual launch: a known member, every identity known. Nothing to insert.
        return _link(session, tenant_id, record, member, pairs, existing, update_profile)
    try:
        with session.begin_nested():
            return _link(session, tenant_id, record, member, pairs, existing, update_profile)
    except IntegrityError:
        # The other request's member and identities stand (we waited for its commit):
        # look again and link to them. A second conflict is a real error.
        by_identity, existing = _identified(session, tenant_id, pairs)
        member = _member_by_rules(session, tenant_id, record, by_identity, match_email=match_email)
        return _link(session, tenant_id, record, member, pairs, existing, update_profile)


def _link(
    session: Session,
    tenant_id: int,
    record: PersonRecord,
    member: Member | None,
    pairs: list[tuple[str, str]],
    existing: set[tuple[str, str]],
    update_profile: bool,
) -> LinkResult:
    """Create the member if there is none, update the profile, add the new identities."""
    created = member is None
    if member is None:
        member = Member(tenant_id=tenant_id)
        session.add(member)
    updated = (created or update_profile) and apply_profile(member, record) and not created
    session.flush()

    now = utcnow()
    new = 0
    for source, external_id in pairs:
        if (source, external_id) in existing:
            continue
        session.add(
            Identity(
                tenant_id=tenant_id,
                member_id=member.id,
                source=source,
                external_id=external_id,
                last_seen_at=now,
            )
        )
        new += 1
    session.flush()
    return LinkResult(member=member, created=created, updated=updated, new_identities=new)
