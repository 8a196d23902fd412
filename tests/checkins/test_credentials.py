"""Open Badges 3.0 credentials: issued from a milestone, signed with the tool's active key,
downloaded, verified against /lti/jwks (signature and claims) and revoked with a reason."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import jwt
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from checkins import (
    CheckinDraft,
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    issue_credential,
    log_checkin,
    revoke_credential,
    verify_public,
    verify_token,
)
from platforms import public_key_set, rotate_key, sign_claims
from records import AuditEvent, Credential, Milestone, SecretBox, ToolKey, utcnow
from tests.support.checkins_factory import NOW, TODAY, World, make_world
from tests.support.checkins_web import session_cookie

ISSUER = "https://tandem.example.org/credentials/issuers/1"
NOTE, SUMMARY = "PRIVATE-NOTE-xyz", "SUMMARY-abc"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([Fernet.generate_key().decode()])


def _milestone(session: Session, world: World) -> Milestone:
    pair = world.pair
    log_checkin(
        session,
        world.tenant.id,
        pair.match.id,
        pair.mentee.id,
        CheckinDraft(met_on=TODAY, duration_minutes=45, summary=SUMMARY, private_notes=NOTE),
        now=NOW,
    )
    return session.scalars(select(Milestone).where(Milestone.member_id == pair.mentee.id)).one()


def _issue(session: Session, world: World, box: SecretBox, milestone: Milestone, **kw):
    return issue_credential(
        session,
        world.tenant.id,
        world.pair.mentee.id,
        milestone.id,
        show_name=kw.get("show_name", False),
        issuer_url=ISSUER,
        sign=lambda claims: sign_claims(session, box, claims),
    )


def test_issued_verified_and_revoked(session: Session, world: World, box: SecretBox) -> None:
    milestone = _milestone(session, world)
    credential = _issue(session, world, box, milestone)
    assert _issue(session, world, box, milestone).id == credential.id  # issued once
    keys = public_key_set(session, box)

    # The signature checks out with the published key named in the header.
    header = jwt.get_unverified_header(credential.token)
    [published] = [k for k in keys["keys"] if k["kid"] == header["kid"]]
    claims = jwt.decode(credential.token, jwt.PyJWK.from_dict(published).key, algorithms=["RS256"])
    vc = claims["vc"]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert claims["jti"] == vc["id"] == f"urn:uuid:{credential.public_id}"
    assert claims["iss"] == vc["issuer"]["id"] == ISSUER
    assert vc["issuer"]["name"] == world.tenant.name
    assert vc["credentialSubject"]["achievement"]["name"] == "First check-in"
    assert "identifier" not in vc["credentialSubject"]  # no name without consent
    text = json.dumps(claims)
    for private in (NOTE, SUMMARY, world.pair.mentee.name, world.pair.mentee.email):
        assert private not in text

    result = verify_public(session, credential.public_id, keys)
    assert result.valid and result.achievement == "First check-in"
    assert result.issuer == world.tenant.name and result.recipient is None
    assert result.issued == vc["issuanceDate"]

    with pytest.raises(InvalidInput, match="say why"):
        revoke_credential(
            session, world.tenant.id, world.programme.id, credential.public_id, 1, " "
        )
    revoke_credential(
        session,
        world.tenant.id,
        world.programme.id,
        credential.public_id,
        world.coordinator.id,
        "logged by mistake",
    )
    result = verify_public(session, credential.public_id, keys)
    assert result.valid_signature and not result.valid
    assert result.revoked_reason == "logged by mistake"
    with pytest.raises(Conflict, match="revoked"):
        revoke_credential(
            session, world.tenant.id, world.programme.id, credential.public_id, 1, "again"
        )
    with pytest.raises(Conflict, match="revoked"):
        _issue(session, world, box, milestone)
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("credential.%"))
    ).all()
    assert actions == ["credential.issued", "credential.revoked"]


def test_the_name_only_with_consent(session: Session, world: World, box: SecretBox) -> None:
    credential = _issue(session, world, box, _milestone(session, world), show_name=True)
    result = verify_public(session, credential.public_id, public_key_set(session, box))
    assert result.valid and result.recipient == world.pair.mentee.name


def test_forged_and_foreign_tokens_do_not_verify(
    session: Session, world: World, box: SecretBox
) -> None:
    credential = _issue(session, world, box, _milestone(session, world))
    keys = public_key_set(session, box)
    header, _payload, signature = credential.token.split(".")
    claims = jwt.decode(credential.token, options={"verify_signature": False})
    claims["vc"]["credentialSubject"]["achievement"]["name"] = "50 mentoring hours"
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    forged = verify_token(session, f"{header}.{forged_payload}.{signature}", keys)
    assert not forged.valid and "signature does not check out" in forged.problem

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = jwt.get_unverified_header(credential.token)["kid"]
    impostor = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": kid})
    assert not verify_token(session, impostor, keys).valid
    other = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "not-ours"})
    assert "does not publish" in verify_token(session, other, keys).problem
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert not verify_token(session, unsigned, keys).valid
    assert "not a JWT" in verify_token(session, "garbage", keys).problem


def test_only_the_member_issues_their_own(session: Session, world: World, box: SecretBox) -> None:
    milestone = _milestone(session, world)
    sign = lambda claims: sign_claims(session, box, claims)  # noqa: E731
    with pytest.raises(NotAllowed):
        issue_credential(
            session, world.tenant.id, world.outsider.id, milestone.id,
            show_name=True, issuer_url=ISSUER, sign=sign,
        )  # fmt: skip
    other = make_world(session, slug="globex")
    with pytest.raises(NotFound):
        issue_credential(
            session, other.tenant.id, world.pair.mentee.id, milestone.id,
            show_name=True, issuer_url=ISSUER, sign=sign,
        )  # fmt: skip
    with pytest.raises(NotFound):
        verify_public(session, "00000000-0000-4000-8000-000000000000", {"keys": []})
    assert session.scalar(select(func.count()).select_from(Credential)) == 0


def test_the_pages(app: Flask, session: Session) -> None:
    world = make_world(session)
    _milestone(session, world)
    session.commit()
    client = app.test_client()
    name, value = session_cookie(app, world.tenant.id, world.pair.mentee.id)
    client.set_cookie(name, value)
    page = client.get("/checkins/").text
    assert "My milestones" in page and "Get a credential" in page
    milestone_id = int(re.search(r"/credentials/milestones/(\d+)/issue", page).group(1))
    issued = client.post(
        f"/credentials/milestones/{milestone_id}/issue",
        data={"csrf_token": "test-csrf", "show_name": "on"},
    )
    assert issued.status_code == 303
    page = client.get("/checkins/").text
    public_id = re.search(r"/credentials/([0-9a-f-]{36})/download", page).group(1)
    download = client.get(f"/credentials/{public_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/vc+jwt"
    token = download.get_data(as_text=True)
    jwks = client.get("/lti/jwks").get_json()
    kid = jwt.get_unverified_header(token)["kid"]
    [key] = [k for k in jwks["keys"] if k["kid"] == kid]
    claims = jwt.decode(token, jwt.PyJWK.from_dict(key).key, algorithms=["RS256"])
    assert claims["iss"].endswith(f"/credentials/issuers/{world.tenant.id}")
    assert client.get(f"/credentials/issuers/{world.tenant.id}").get_json()["name"] == (
        world.tenant.name
    )

    public = app.test_client()  # anyone, signed in or not
    verified = public.get(f"/credentials/{public_id}").text
    assert "Valid." in verified and world.pair.mentee.name in verified
    assert "First check-in" in verified and world.tenant.name in verified
    pasted = public.post("/credentials/verify", data={"token": token}).text
    assert "Valid." in pasted
    refused = public.post("/credentials/verify", data={"token": ""})
    assert refused.status_code == 400
    assert "Not valid" in public.post("/credentials/verify", data={"token": "a.b.c"}).text
    assert public.get(f"/credentials/{public_id}/download").status_code == 401
    assert public.get("/credentials/00000000-0000-4000-8000-000000000000").status_code == 404

    name, value = session_cookie(app, world.tenant.id, world.coordinator.id, coordinator=True)
    client.set_cookie(name, value)
    dashboard = client.get(f"/dashboard/{world.programme.id}").text
    assert (
        "Credentials issued (1)" in dashboard and 'id="milestone-count-first_checkin"' in dashboard
    )
    url = f"/credentials/programmes/{world.programme.id}/{public_id}/revoke"
    client.post(url, data={"csrf_token": "test-csrf", "reason": ""})
    assert "Valid." in public.get(f"/credentials/{public_id}").text  # no reason, no revoke
    client.post(url, data={"csrf_token": "test-csrf", "reason": "logged by mistake"})
    verified = public.get(f"/credentials/{public_id}").text
    assert "Revoked" in verified and "logged by mistake" in verified

    name, value = session_cookie(app, world.tenant.id, world.pair.mentor.id)
    client.set_cookie(name, value)
    assert client.post(url, data={"csrf_token": "test-csrf", "reason": "x"}).status_code == 403
    assert client.get(f"/credentials/{public_id}/download").status_code == 404


def test_a_credential_stays_verifiable_after_its_key_is_rotated_out(
    session: Session, world: World, box: SecretBox
) -> None:
    """/lti/jwks drops a retired key after seven days, unless an unrevoked credential it
    signed still needs it; then it stays until that credential is revoked."""
    credential = _issue(session, world, box, _milestone(session, world))
    kid = jwt.get_unverified_header(credential.token)["kid"]
    assert credential.kid == kid
    rotate_key(session, box)
    session.execute(
        update(ToolKey).where(ToolKey.kid == kid).values(retired_at=utcnow() - timedelta(days=30))
    )
    keys = public_key_set(session, box)
    assert kid in {k["kid"] for k in keys["keys"]}
    assert verify_public(session, credential.public_id, keys).valid
    revoke_credential(
        session, world.tenant.id, world.programme.id, credential.public_id, 1, "issued in error"
    )
    assert kid not in {k["kid"] for k in public_key_set(session, box)["keys"]}
