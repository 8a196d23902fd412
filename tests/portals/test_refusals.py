"""What a refused sign-in says, and the one log line each refusal leaves (issue 15, item 6)."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.oidc_provider import OidcProvider, provider_key

from .conftest import Directory, authorize, last_audit, refused, register_portal, start


def test_reopening_a_used_callback_says_it_was_already_used(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    url = authorize(start(client))
    assert client.get(url).status_code == 303  # the state cookie is gone from here on
    page = refused(app, client, url, 400, "state_used")  # the back button, or a bookmark
    assert "This sign-in was already used" in page and "not started in this browser" not in page


def test_a_callback_never_started_still_says_so(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, portal_id: int
) -> None:
    url = authorize(start(app.test_client()))  # started in another browser, never used
    response = client.get(url)
    assert "not started in this browser" in response.get_data(as_text=True)
    assert last_audit(app).detail["reason"] == "state_mismatch"


def _spoil(provider: OidcProvider, case: str) -> dict:
    """Settings that make the next sign-in fail for ``case``; returns portal settings."""
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    if case == "bad_secret":
        return {"client_secret": "not-the-secret"}
    if case == "bad_signature":
        provider.signing_key = provider_key("forger")
    elif case == "not_in_directory":
        provider.next_claims = {"sub": "p-x", "email": "x@example.org", "email_verified": True}
    elif case == "email_unverified":
        provider.next_claims = {"sub": "p-x", "email": "ada@example.org"}
    return {}


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("bad_secret", "client_rejected"),
        ("bad_signature", "bad_signature"),
        ("not_in_directory", "not_in_directory"),
        ("email_unverified", "email_unverified"),
    ],
)
def test_every_refusal_logs_one_line_with_reason_and_portal_and_no_secret(
    app: Flask,
    client: FlaskClient,
    provider: OidcProvider,
    directory: Directory,
    caplog: pytest.LogCaptureFixture,
    case: str,
    reason: str,
) -> None:
    register_portal(app, provider, **_spoil(provider, case))
    url = authorize(start(client))
    code = url.split("code=")[1].split("&")[0]
    state = url.split("state=")[1].split("&")[0]
    with caplog.at_level(logging.INFO, logger="lti_tool"):
        response = client.get(url)
    assert response.status_code >= 400
    assert last_audit(app).detail["reason"] == reason
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("lti_tool")]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"portal assoc refused a sign-in: {reason}")
    secrets = [provider.client_secret, "not-the-secret", code, state, *provider.access_tokens]
    assert not [s for s in secrets if s in lines[0]]


def test_a_refusal_log_line_stays_one_line(
    client: FlaskClient, directory: Directory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="lti_tool"):
        assert client.get("/portal/x%0Aportal%20admin%20signed%20in/login").status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("lti_tool")]
    assert len(lines) == 1 and "\n" not in lines[0] and "unknown_portal" in lines[0]
