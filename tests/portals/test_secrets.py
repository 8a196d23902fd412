"""A portal's client secret is rotated with every other stored secret."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import portals
from portals import PortalSettings, ProviderMetadata
from records import Portal, SecretBox, generate_key
from records.rotation import rotate_secrets


def fake_discovery(issuer: str, token_auth_method: str | None = None) -> ProviderMetadata:
    return ProviderMetadata(
        authorization_endpoint=f"{issuer}/authorize",
        token_endpoint=f"{issuer}/token",
        jwks_uri=f"{issuer}/jwks",
        token_auth_method=token_auth_method or "client_secret_basic",
        algorithms=("RS256",),
    )


def test_rotate_secrets_reencrypts_the_portal_secret(session: Session) -> None:
    old, new = generate_key(), generate_key()
    settings = PortalSettings(
        name="assoc",
        issuer="https://portal.example.org",
        client_id="c",
        client_secret="the-secret",
        tenant_slug="t",
    )
    portals.add_portal(session, SecretBox([old]), settings, discover_provider=fake_discovery)
    assert rotate_secrets(session, SecretBox([new, old])) == 1
    portal = session.scalars(select(Portal)).one()
    assert SecretBox([new]).decrypt(portal.client_secret_encrypted or "") == "the-secret"
    assert "the-secret" not in repr(portal)
