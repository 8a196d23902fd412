"""Signing out: ``/sign-out`` ends Tandem's session, and the portal's too when it offers
RP-initiated logout (issue 15, item 4)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.support.oidc_provider import OidcProvider

from .conftest import Directory, register_portal, sign_in

_FORM_TOKEN = re.compile(r'<form class="sign-out"[^>]*>\s*<input type="hidden" name="csrf_token" '
                         r'value="([^"]+)">')  # fmt: skip


def sign_out_token(client: FlaskClient, path: str = "/me") -> str:
    """The "Sign out" button's form token on a signed-in page."""
    page = client.get(path)
    assert page.status_code == 200
    found = _FORM_TOKEN.search(page.get_data(as_text=True))
    assert found, "no Sign out button on " + path
    return found.group(1)


def signed_in(client: FlaskClient) -> bool:
    with client.session_transaction() as flask_session:
        return "member_id" in flask_session


def test_every_signed_in_page_has_a_sign_out_button(
    client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    assert 'id="sign-out"' not in client.get("/").get_data(as_text=True)
    coordinators = ["mentoring-coordinators"]
    provider.next_claims = {"sub": "p-ben", "member_number": "M-1002", "groups": coordinators}
    sign_in(client)
    for path in ("/me", "/coordinator", "/programmes", "/"):
        sign_out_token(client, path)


def test_sign_out_without_end_session_endpoint_ends_tandems_session(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    sign_in(client)
    response = client.post("/sign-out", data={"csrf_token": sign_out_token(client)})
    assert response.status_code == 303 and response.location == "/sign-out"
    assert not signed_in(client)
    assert client.get("/me").status_code == 401
    page = client.get(response.location).get_data(as_text=True)
    assert "You are signed out of Tandem" in page and 'id="sign-out"' not in page
    assert provider.logouts == []


def test_sign_out_with_end_session_endpoint_signs_out_at_the_portal(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory
) -> None:
    provider.end_session = True
    register_portal(app, provider)
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    sign_in(client)
    page = client.get("/me").get_data(as_text=True)
    # The portal's sign-out page must not open inside a frame that embeds Tandem.
    assert '<form class="sign-out" method="post" action="/sign-out" target="_top">' in page
    response = client.post("/sign-out", data={"csrf_token": sign_out_token(client)})
    assert response.status_code == 303
    assert response.location.startswith(f"{provider.issuer}/session/end?")
    assert not signed_in(client)
    params = {k: v[0] for k, v in parse_qs(urlsplit(response.location).query).items()}
    assert params["client_id"] == provider.client_id
    assert params["post_logout_redirect_uri"] == "http://localhost/sign-out"
    hint = jwt.decode(params["id_token_hint"], options={"verify_signature": False})
    assert (hint["sub"], hint["aud"]) == ("p-ada", provider.client_id)

    # The portal signs the person out and sends the browser back to Tandem's page.
    back = requests.get(response.location, allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"] == "http://localhost/sign-out"
    assert len(provider.logouts) == 1
    assert "You are signed out" in client.get("/sign-out").get_data(as_text=True)
    assert client.get("/me").status_code == 401


def test_sign_out_needs_the_pages_form_token(
    client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    sign_in(client)
    # Another site posting to /sign-out cannot end the member's session.
    assert client.post("/sign-out", data={"csrf_token": "forged"}).status_code == 400
    assert client.post("/sign-out").status_code == 400
    assert signed_in(client) and client.get("/me").status_code == 200


def test_sign_out_when_already_signed_out_says_so(client: FlaskClient) -> None:
    response = client.post("/sign-out")
    assert response.status_code == 303 and response.location == "/sign-out"
    assert "You are signed out" in client.get("/sign-out").get_data(as_text=True)


def test_sign_out_page_when_signed_in_offers_the_button(
    client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    sign_in(client)
    page = client.get("/sign-out").get_data(as_text=True)
    assert "Sign out of Tandem?" in page
    assert signed_in(client)  # a GET signs nobody out (a link or image cannot)
