"""ID token signing algorithms: every asymmetric one the provider offers, named when refused.

Issue 15, item 5: a provider may sign with EdDSA (Ed25519), ES384/ES512 or PS384/PS512.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.oidc_provider import OidcProvider

from .conftest import Directory, authorize, refused, register_portal, start


@pytest.mark.parametrize("alg", ["EdDSA", "ES384", "ES512", "PS384", "PS512"])
def test_token_signed_with_an_offered_asymmetric_algorithm_is_accepted(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory, alg: str
) -> None:
    provider.discovery_overrides = {"id_token_signing_alg_values_supported": ["RS256", alg]}
    register_portal(app, provider)
    provider.signing_alg = alg
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    response = client.get(authorize(start(client)))
    assert response.status_code == 303, response.get_data(as_text=True)


def test_provider_that_signs_only_with_eddsa_can_be_registered(
    app: Flask, client: FlaskClient, provider: OidcProvider, directory: Directory
) -> None:
    provider.discovery_overrides = {"id_token_signing_alg_values_supported": ["EdDSA"]}
    register_portal(app, provider)
    provider.signing_alg = "EdDSA"
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    assert client.get(authorize(start(client))).status_code == 303


@pytest.mark.parametrize(
    ("alg", "signing_key"),
    [("ES256", None), ("HS256", "s3cret-of-the-portal")],
    ids=["not-offered", "hmac-with-the-client-secret"],
)
def test_token_with_an_algorithm_not_allowed_names_it_and_those_allowed(
    app: Flask,
    client: FlaskClient,
    provider: OidcProvider,
    directory: Directory,
    portal_id: int,
    alg: str,
    signing_key: str | None,
) -> None:
    provider.signing_alg = alg
    provider.signing_key = signing_key  # type: ignore[assignment]
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}
    page = refused(app, client, authorize(start(client)), 400, "bad_algorithm")
    assert f"signed its answer with {alg}" in page and "accepts only RS256" in page
