"""Portal URLs through the one outbound check: without the development switch the
suite's loopback provider is refused, and no discovery answer leads Tandem inward."""

from __future__ import annotations

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient

from portals.errors import PortalConfigError, ProviderError
from portals.provider import discover
from tests.support.oidc_provider import OidcProvider

from .conftest import authorize, grown, last_audit, row_counts, start
from .test_cli import Cli, add_args

ISSUER = "https://portal.example.org"


def test_without_the_switch_portal_add_refuses_the_loopback_provider(
    cli: Cli, provider: OidcProvider, production_urls
) -> None:
    result = cli(add_args(provider, "--tenant", "t"))
    assert result.exit_code == 1
    assert "not an https" in result.output and len(result.output.strip().splitlines()) == 1
    assert provider.requests == []


def test_without_the_switch_the_stored_loopback_token_endpoint_is_not_called(
    app: Flask,
    client: FlaskClient,
    provider: OidcProvider,
    portal_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    callback = authorize(start(client))
    monkeypatch.delenv("TANDEM_ALLOW_INSECURE_URLS")
    seen = list(provider.requests)
    before = row_counts(app)
    response = client.get(callback)
    assert 400 <= response.status_code < 500
    assert grown(before, row_counts(app)) == {"audit_events": 1}
    assert last_audit(app).detail["reason"] == "bad_url"
    assert provider.requests == seen  # no code exchange, no key set fetch


def discovery(**changes: str) -> dict:
    return {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/jwks",
        "code_challenge_methods_supported": ["S256"],
        **changes,
    }


@responses.activate
@pytest.mark.parametrize(
    "change",
    [
        {"jwks_uri": "https://10.0.0.8/jwks"},
        {"token_endpoint": "https://169.254.169.254/token"},
        {"token_endpoint": "https://user@portal.example.org/token"},
    ],
)
def test_discovery_naming_an_internal_or_user_info_endpoint_is_refused(
    public_dns, change: dict
) -> None:
    responses.get(f"{ISSUER}/.well-known/openid-configuration", json=discovery(**change))
    with pytest.raises(PortalConfigError):
        discover(ISSUER)


@responses.activate
def test_a_discovery_redirect_is_not_followed(public_dns) -> None:
    responses.get(
        f"{ISSUER}/.well-known/openid-configuration",
        status=302,
        headers={"Location": "http://10.0.0.1/.well-known/openid-configuration"},
    )
    inner = responses.get("http://10.0.0.1/.well-known/openid-configuration", json=discovery())
    with pytest.raises(ProviderError, match="redirect"):
        discover(ISSUER)
    assert inner.call_count == 0
