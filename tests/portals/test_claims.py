"""Which claims a portal sign-in reads, and from where: the ID token, then userinfo.

Issue 15, items 1 and 3: many providers put email, names and custom claims only at the
userinfo endpoint; an email links a member only when ``email_verified`` is exactly true;
a portal account never renames a member another source brought in.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import records
from records import Identity, Member
from tests.support.oidc_provider import OidcProvider

from .conftest import PORTAL, Directory, authorize, refused, register_portal, sign_in, start


def signed_in_member(client: FlaskClient) -> int | None:
    with client.session_transaction() as flask_session:
        return flask_session.get("member_id")


def member(app: Flask, member_id: int) -> Member:
    with app.app_context(), records.get_database(app).transaction() as session:
        found = session.get(Member, member_id)
        assert found is not None
        session.expunge(found)
        return found


def portal_identities(app: Flask) -> set[tuple[str, int]]:
    with app.app_context(), records.get_database(app).transaction() as session:
        rows = session.scalars(select(Identity).where(Identity.source == f"portal:{PORTAL}"))
        return {(i.external_id, i.member_id) for i in rows}


def test_claims_only_at_userinfo_sign_the_member_in_with_their_role(
    client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.claims_in = "userinfo"
    provider.next_claims = {
        "sub": "p-ben",
        "member_number": "M-1002",
        "groups": ["mentoring-coordinators"],
    }
    response = sign_in(client)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.location.endswith("/coordinator")
    assert signed_in_member(client) == directory.ben_id
    # Userinfo was asked with the access token the token endpoint issued.
    assert provider.userinfo_tokens and provider.userinfo_tokens[-1] in provider.access_tokens


def test_verified_email_only_at_userinfo_links_the_member(
    client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.claims_in = "userinfo"
    provider.next_claims = {
        "sub": "p-ben",
        "email": "BEN.baker@example.org",
        "email_verified": True,
    }
    assert sign_in(client).status_code == 303
    assert signed_in_member(client) == directory.ben_id


def test_claims_in_the_id_token_link_without_userinfo(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory
) -> None:
    provider.discovery_overrides = {"userinfo_endpoint": None}
    register_portal(app, provider)
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    assert sign_in(client).status_code == 303
    assert signed_in_member(client) == directory.ada_id
    assert "/userinfo" not in provider.requests


def test_userinfo_about_someone_else_is_refused_without_a_write(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.claims_in = "userinfo"
    provider.next_claims = {"sub": "p-x", "member_number": "M-1001"}
    provider.userinfo_overrides = {"sub": "p-ada"}  # OIDC Core 5.3.2: must not be used
    page = refused(app, client, authorize(start(client)), 400, "userinfo_sub_mismatch")
    assert "about someone else" in page
    assert signed_in_member(client) is None


def test_userinfo_unreachable_is_a_502_with_one_audit_row(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.claims_in = "userinfo"
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    with app.app_context(), records.get_database(app).transaction() as session:
        portal = session.get(records.Portal, portal_id)
        assert portal is not None
        portal.provider = {**portal.provider, "userinfo_endpoint": "http://127.0.0.1:9/userinfo"}
    refused(app, client, authorize(start(client)), 502, "unreachable")


@pytest.mark.parametrize(
    "verified",
    [None, "true", 1, False],
    ids=["claim-missing", "string-true", "number-one", "false"],
)
@pytest.mark.parametrize("claims_in", ["id_token", "userinfo"])
def test_email_not_verified_exactly_true_links_nobody_and_renames_nobody(
    app: Flask,
    client: FlaskClient,
    provider: OidcProvider,
    directory: Directory,
    portal_id: int,
    verified: object,
    claims_in: str,
) -> None:
    # A provider account that claims Ben's address, with a name of its own.
    provider.claims_in = claims_in
    provider.next_claims = {"sub": "p-intruder", "email": "ben.baker@example.org", "name": "Mal"}
    if verified is not None:
        provider.next_claims["email_verified"] = verified
    page = refused(app, client, authorize(start(client)), 403, "email_unverified")
    assert "does not know you as a member" in page
    assert signed_in_member(client) is None
    assert member(app, directory.ben_id).name == "Ben Member"
    assert portal_identities(app) == set()


def test_userinfo_email_is_not_verified_by_the_id_tokens_flag(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    # email_verified speaks of the address beside it: the ID token verified another one.
    provider.next_claims = {"sub": "p-x", "email": "x@example.org", "email_verified": True}
    provider.userinfo_overrides = {"email": "ben.baker@example.org"}
    refused(app, client, authorize(start(client)), 403, "email_unverified")
    assert portal_identities(app) == set()


def test_a_portal_sign_in_never_renames_a_directory_member(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.claims_in = "userinfo"
    provider.next_claims = {
        "sub": "p-ada",
        "member_number": "M-1001",
        "given_name": "Mal",
        "family_name": "Intruder",
        "name": "Mal Intruder",
        "email": "mal@example.net",
        "email_verified": True,
        "picture": "https://example.net/mal.png",
    }
    assert sign_in(client).status_code == 303
    ada = member(app, directory.ada_id)
    assert (ada.given_name, ada.family_name, ada.name, ada.email, ada.picture_url) == (
        "Ada",
        "Member",
        "Ada Member",
        "ada@example.org",
        None,
    )
    assert portal_identities(app) == {("p-ada", directory.ada_id)}


def test_a_self_registered_member_follows_their_portal_profile(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory
) -> None:
    register_portal(app, provider, allow_self_registration=True)
    provider.claims_in = "userinfo"
    provider.next_claims = {"sub": "p-new", "given_name": "Nia", "family_name": "New"}
    assert sign_in(client).status_code == 303
    nia = signed_in_member(client)
    assert nia is not None
    provider.next_claims = {"sub": "p-new", "given_name": "Nia", "family_name": "Newer"}
    assert sign_in(client).status_code == 303
    assert signed_in_member(client) == nia
    assert member(app, nia).family_name == "Newer"


def test_self_registration_keeps_no_unverified_email(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory
) -> None:
    register_portal(app, provider, allow_self_registration=True)
    provider.next_claims = {"sub": "p-new", "name": "Nia New", "email": "ada@example.org"}
    assert sign_in(client).status_code == 303
    nia = signed_in_member(client)
    assert nia not in (None, directory.ada_id)
    assert member(app, nia).email is None  # type: ignore[arg-type]


@pytest.mark.parametrize("claims_in", ["id_token", "userinfo"])
def test_the_oidc_locale_claim_is_the_members_language(
    app: Flask,
    client: FlaskClient,
    provider: OidcProvider,
    directory: Directory,
    portal_id: int,
    claims_in: str,
) -> None:
    provider.claims_in = claims_in
    provider.next_claims = {"sub": "p-ben", "member_number": "M-1002", "locale": "fr-CA"}
    assert sign_in(client).status_code == 303
    assert member(app, directory.ben_id).locale == "fr_CA"
    page = client.get("/checkins/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Mon mentorat" in page
    # A malformed one later changes nothing and signs in all the same.
    provider.next_claims = {"sub": "p-ben", "member_number": "M-1002", "locale": "<b>" * 50}
    assert sign_in(client).status_code == 303
    assert member(app, directory.ben_id).locale == "fr_CA"
