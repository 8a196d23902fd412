"""Signing in through a portal's OpenID Connect provider, over real HTTP on loopback."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import records
from records import Identity, Member
from tests.support.oidc_provider import OidcProvider, provider_key

from .conftest import (
    PORTAL,
    Directory,
    authorize,
    grown,
    last_audit,
    register_portal,
    row_counts,
    sign_in,
    start,
)


def session_of(client: FlaskClient) -> dict:
    with client.session_transaction() as flask_session:
        return dict(flask_session)


def test_member_signs_in_and_lands_on_the_member_page(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    # The portal account calls itself otherwise: the directory's name stays (issue 15).
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001", "name": "Ada Lovelace"}
    response = sign_in(client)
    assert response.status_code == 303 and response.location.endswith("/me")
    signed = session_of(client)
    assert (signed["tenant_id"], signed["member_id"], signed["role"]) == (
        directory.tenant_id,
        directory.ada_id,
        "member",
    )
    assert signed["origins"] == ["https://portal.example.org"]
    page = client.get("/me")
    assert page.status_code == 200 and "Ada Member" in page.get_data(as_text=True)
    assert "Ada Lovelace" not in page.get_data(as_text=True)
    assert (
        "frame-ancestors 'self' https://portal.example.org"
        in page.headers["Content-Security-Policy"]
    )
    assert client.get("/programmes").status_code == 200
    with app.app_context(), records.get_database(app).transaction() as session:
        identity = session.scalars(
            select(Identity).where(Identity.source == f"portal:{PORTAL}")
        ).one()
        assert (identity.external_id, identity.member_id) == ("p-ada", directory.ada_id)
    event = last_audit(app)
    assert (event.action, event.actor_member_id) == ("portal.sign_in", directory.ada_id)
    # The discovery came at registration; JWKS and token at sign-in, all over HTTP.
    assert {"/.well-known/openid-configuration", "/jwks", "/token"} <= set(provider.requests)


def test_second_sign_in_finds_the_member_by_the_portal_identity(
    client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    sign_in(client)
    provider.next_claims = {"sub": "p-ada"}  # no member number this time
    assert sign_in(client).status_code == 303
    assert session_of(client)["member_id"] == directory.ada_id


def test_member_linked_by_email_case_insensitively(
    client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {
        "sub": "p-ben",
        "email": "ben.baker@example.org",
        "email_verified": True,
    }
    assert sign_in(client).status_code == 303
    assert session_of(client)["member_id"] == directory.ben_id


def test_unverified_email_links_nobody(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {
        "sub": "p-x",
        "email": "ben.baker@example.org",
        "email_verified": False,
    }
    response = sign_in(client)
    assert response.status_code == 403
    # The operator reads the real cause; the page does not tell that the address is known.
    assert last_audit(app).detail["reason"] == "email_unverified"
    assert "does not know you as a member" in response.get_data(as_text=True)


def test_coordinator_role_from_the_portal_group(
    client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {
        "sub": "p-ben",
        "member_number": "M-1002",
        "groups": ["members", "mentoring-coordinators"],
    }
    response = sign_in(client)
    assert response.location.endswith("/coordinator")
    assert session_of(client)["role"] == "coordinator"
    assert client.get("/coordinator").status_code == 200


def test_person_outside_the_directory_is_refused_without_a_write(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {"sub": "p-stranger", "email": "stranger@example.org"}
    url = authorize(start(client))
    before = row_counts(app)
    response = client.get(url)
    assert response.status_code == 403
    assert "does not know you as a member" in response.get_data(as_text=True)
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert "tenant_id" not in session_of(client)
    event = last_audit(app)
    assert (event.action, event.detail["reason"]) == ("portal.sign_in_refused", "not_in_directory")


def test_self_registration_creates_the_member_when_allowed(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory
) -> None:
    register_portal(app, provider, allow_self_registration=True)
    provider.next_claims = {
        "sub": "p-new",
        "email": "new@example.org",
        "given_name": "Nia",
        "family_name": "New",
    }
    assert sign_in(client).status_code == 303
    with app.app_context(), records.get_database(app).transaction() as session:
        member = session.get(Member, session_of(client)["member_id"])
        assert member is not None
        assert (member.tenant_id, member.name) == (directory.tenant_id, "Nia New")


def test_member_deactivated_by_the_last_sync_is_refused(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory
) -> None:
    # Even with self-registration on: a deactivated member is never let in or revived.
    register_portal(app, provider, allow_self_registration=True)
    provider.next_claims = {"sub": "p-gus", "member_number": "M-1003"}
    url = authorize(start(client))
    before = row_counts(app)
    response = client.get(url)
    assert response.status_code == 403
    assert "not active" in response.get_data(as_text=True)
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert last_audit(app).detail["reason"] == "member_inactive"
    with app.app_context(), records.get_database(app).transaction() as session:
        gus = session.get(Member, directory.gone_id)
        assert gus is not None and gus.active is False


def test_wrong_state_is_refused(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    url = authorize(start(client))
    tampered = url.replace("state=", "state=x")
    before = row_counts(app)
    response = client.get(tampered)
    assert response.status_code == 400
    assert "not started in this browser" in response.get_data(as_text=True)
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert last_audit(app).detail["reason"] == "state_mismatch"


def test_two_sign_ins_in_two_tabs_both_finish(
    client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    first, second = authorize(start(client)), authorize(start(client))
    assert client.get(second).status_code == 303
    assert client.get(first).status_code == 303


def test_callback_in_another_browser_is_refused(
    app: Flask, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    url = authorize(start(app.test_client()))
    response = app.test_client().get(url)  # no state cookie: someone else's browser
    assert response.status_code == 400
    assert last_audit(app).detail["reason"] == "state_mismatch"


def test_replayed_callback_is_refused(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    url = authorize(start(client))
    assert client.get(url).status_code == 303
    before = row_counts(app)
    # The same answer again, with the state cookie an attacker may have copied too.
    state = url.split("state=")[1]
    client.set_cookie(f"portal_state_{state}", state, path=f"/portal/{PORTAL}/callback")
    response = client.get(url)
    assert response.status_code == 400
    assert "already used" in response.get_data(as_text=True)
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert last_audit(app).detail["reason"] == "unknown_state"


def test_replayed_code_with_a_fresh_state_is_refused_by_the_provider(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    first = authorize(start(client))
    assert client.get(first).status_code == 303
    old_code = first.split("code=")[1].split("&")[0]
    fresh = authorize(start(client))
    replay = fresh.replace(fresh.split("code=")[1].split("&")[0], old_code)
    before = row_counts(app)
    response = client.get(replay)
    assert response.status_code == 400
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert last_audit(app).detail["reason"] == "code_refused"
    assert provider.token_errors == ["invalid_grant"]


ISSUED_LONG_AGO = int(time.time()) - 3600


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": ISSUED_LONG_AGO}, "expired"),
        ({"iat": ISSUED_LONG_AGO, "exp": int(time.time()) + 300}, "expired"),
        ({"iat": int(time.time()) + 3600}, "bad_claims"),
        ({"nonce": "not-the-nonce"}, "bad_claims"),
        ({"nonce": None}, "bad_claims"),
        ({"aud": "another-client"}, "bad_claims"),
        ({"aud": ["tandem-client", "another-client"]}, "bad_claims"),
        ({"iss": "https://evil.example.org"}, "bad_claims"),
        ({"sub": None}, "bad_claims"),
    ],
    ids=[
        "expired",
        "issued-long-ago",
        "issued-in-future",
        "wrong-nonce",
        "no-nonce",
        "wrong-aud",
        "extra-aud-no-azp",
        "wrong-iss",
        "no-sub",
    ],
)
def test_bad_id_token_claims_are_refused(
    app: Flask,
    client: FlaskClient,
    provider: OidcProvider,
    directory: Directory,
    portal_id: int,
    overrides: dict,
    reason: str,
) -> None:
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    provider.claim_overrides = overrides
    url = authorize(start(client))
    before = row_counts(app)
    response = client.get(url)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "could not sign you in" in response.get_data(as_text=True)
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert last_audit(app).detail["reason"] == reason
    assert "tenant_id" not in session_of(client)


def test_forged_id_token_is_refused(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    provider.signing_key = provider_key("forger")  # same kid, someone else's key
    url = authorize(start(client))
    before = row_counts(app)
    response = client.get(url)
    assert response.status_code == 400
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert last_audit(app).detail["reason"] == "bad_signature"


def test_unknown_portal_gets_a_404_page_and_an_audit_row(
    app: Flask, client: FlaskClient, directory: Directory
) -> None:
    before = row_counts(app)
    for path in ("/portal/nobody/login", "/portal/nobody/callback?code=x&state=y"):
        response = client.get(path)
        assert response.status_code == 404
        assert "not connected to Tandem" in response.get_data(as_text=True)
    assert grown(before, row_counts(app)) == {"audit_events": 2}
    assert last_audit(app).detail["reason"] == "unknown_portal"


def test_portal_that_says_no_gets_a_clear_page(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    start(client)
    response = client.get(f"/portal/{PORTAL}/callback?error=access_denied&state=x")
    assert response.status_code == 400
    assert "access_denied" in response.get_data(as_text=True)
    spoofed = client.get(
        f"/portal/{PORTAL}/callback?error=Call+0800+to+unlock&error_description=Call+0800"
    )
    assert "0800" not in spoofed.get_data(as_text=True)
    assert last_audit(app).detail["reason"] == "provider_error"


def test_provider_down_at_token_time_is_a_502(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    url = authorize(start(client))
    provider.discovery_overrides = {}  # the stored endpoints are used, not re-read
    with app.app_context(), records.get_database(app).transaction() as session:
        portal = session.get(records.Portal, portal_id)
        assert portal is not None
        portal.provider = {**portal.provider, "token_endpoint": "http://127.0.0.1:9/token"}
    before = row_counts(app)
    response = client.get(url)
    assert response.status_code == 502
    assert "did not answer" in response.get_data(as_text=True)
    assert grown(before, row_counts(app)) == {"audit_events": 1}


def test_a_portal_sign_in_replaces_an_lms_session_wholesale(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    with client.session_transaction() as flask_session:
        flask_session.update(
            tenant_id=directory.tenant_id + 100,
            member_id=7,
            role="coordinator",
            course_id=3,
            programme_id=4,
            launch_id="lms-launch",
            origins=["https://lms.example.org"],
            csrf="old",
        )
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    sign_in(client)
    signed = session_of(client)
    assert signed["tenant_id"] == directory.tenant_id
    assert (signed["course_id"], signed["programme_id"], signed["launch_id"]) == (None, None, None)
    assert signed["role"] == "member" and signed["csrf"] != "old"
    assert signed["origins"] == ["https://portal.example.org"]


def test_login_page_may_be_framed_by_the_portal_only(
    client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    response = client.get(f"/portal/{PORTAL}/login")
    assert response.headers["Content-Security-Policy"].split("; ")[0] == (
        "frame-ancestors 'self' https://portal.example.org"
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and f"Path=/portal/{PORTAL}/callback" in cookie
