"""Client authentication at the token endpoint, and telling a bad client from a bad code.

Issue 15, item 2: RFC 6749 section 2.3.1 form-urlencodes client id and secret before the
Basic header's base64; the test provider decodes strictly, as real providers do.
"""

from __future__ import annotations

import base64
import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portals.provider import basic_authorization
from tests.support.oidc_provider import serve_provider

from .conftest import Directory, authorize, last_audit, refused, register_portal, start

SECRETS = ["Zm9v+YmFy/YmF6==", "p4ss%w:rd&x-0123", "+/=%:& all of them"]


def test_basic_authorization_form_urlencodes_id_and_secret() -> None:
    header = basic_authorization("tandem:client", "p4ss%w:rd&x+/=")
    decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    assert decoded == "tandem%3Aclient:p4ss%25w%3Ard%26x%2B%2F%3D"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
@pytest.mark.parametrize("secret", SECRETS)
def test_secrets_with_special_characters_sign_in_by_either_method(
    app: Flask, client: FlaskClient, directory: Directory, secret: str, method: str
) -> None:
    with serve_provider(
        client_id="tandem client:1", client_secret=secret, client_auth_method=method
    ) as provider:
        register_portal(app, provider, token_auth_method=method)
        provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
        response = client.get(authorize(start(client)))
        assert response.status_code == 303, response.get_data(as_text=True)
        assert provider.token_errors == []
        assert [m for m, _ in provider.client_auth] == [method]


def test_default_method_comes_from_discovery(
    app: Flask, client: FlaskClient, directory: Directory
) -> None:
    methods = {"token_endpoint_auth_methods_supported": ["client_secret_post"]}
    with serve_provider(client_auth_method="client_secret_post") as provider:
        provider.discovery_overrides = methods
        register_portal(app, provider)
        provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
        assert client.get(authorize(start(client))).status_code == 303
        assert [m for m, _ in provider.client_auth] == ["client_secret_post"]


@pytest.mark.parametrize(
    ("registered", "provider_settings"),
    [
        ({"client_secret": "not-the-secret"}, {}),
        ({}, {"client_auth_method": "client_secret_post"}),  # Tandem sends basic
    ],
    ids=["wrong-secret", "method-not-registered"],
)
def test_refused_client_credentials_are_told_apart_from_a_refused_code(
    app: Flask,
    client: FlaskClient,
    directory: Directory,
    caplog: pytest.LogCaptureFixture,
    registered: dict,
    provider_settings: dict,
) -> None:
    with serve_provider(**provider_settings) as provider:
        register_portal(app, provider, **registered)
        url = authorize(start(client))
        with caplog.at_level(logging.WARNING, logger="lti_tool"):
            page = refused(app, client, url, 502, "client_rejected")
        assert "client credentials" in page and "not set up correctly" in page
        assert "sign-in code" not in page
        assert provider.token_errors == ["invalid_client"]
        lines = [r.getMessage() for r in caplog.records if r.name.startswith("lti_tool")]
        assert len(lines) == 1
        assert "assoc" in lines[0] and "client_rejected" in lines[0]
        assert "--client-secret" in lines[0] and "--token-auth" in lines[0]
        assert "not-the-secret" not in lines[0] and provider.client_secret not in lines[0]


def test_a_refused_code_says_so(app: Flask, client: FlaskClient, directory: Directory) -> None:
    with serve_provider() as provider:
        register_portal(app, provider)
        url = authorize(start(client))
        code = url.split("code=")[1].split("&")[0]
        provider.used_codes.add(code)
        provider.codes.pop(code)
        response = client.get(url)
        assert response.status_code == 400
        assert "refused the sign-in code (invalid_grant)" in response.get_data(as_text=True)
        assert last_audit(app).detail["reason"] == "code_refused"
