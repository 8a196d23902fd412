"""OAuth 2 access tokens for LTI Advantage services, by client-credentials JWT assertion.

Tokens are cached in the database until shortly before they expire, so that every
worker reuses one token per tenant and scope set instead of asking the platform each time.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from datetime import timedelta

import jwt
from sqlalchemy.orm import Session

from records import SecretBox, Tenant

from .errors import ServiceError
from .http import call_json
from .keys import signing_key
from .state import ACCESS_TOKEN, get_value, put_value

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Ask again this long before the platform's expiry, so a token never dies mid-request.
EXPIRY_MARGIN_SECONDS = 60
DEFAULT_LIFETIME_SECONDS = 3600


def client_assertion(session: Session, box: SecretBox, tenant: Tenant) -> str:
    """A signed JWT proving the tool is the tenant's client (RFC 7523)."""
    key = signing_key(session, box)
    now = int(time.time())
    claims = {
        "iss": tenant.client_id,
        "sub": tenant.client_id,
        "aud": tenant.auth_audience or tenant.auth_token_url,
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(24),
    }
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def access_token(session: Session, box: SecretBox, tenant: Tenant, scopes: Iterable[str]) -> str:
    """A bearer token for ``scopes`` at the tenant's platform, cached until it expires.

    Raises:
        ServiceError: the platform refused or answered without a token.
    """
    scope = " ".join(sorted(set(scopes)))
    cache_key = f"{tenant.id}:{scope}"
    cached = get_value(session, ACCESS_TOKEN, cache_key)
    if cached and isinstance(cached.get("access_token"), str):
        return cached["access_token"]
    if not tenant.auth_token_url:
        raise ServiceError(f"tenant {tenant.id} has no token URL")
    answer = call_json(
        "POST",
        tenant.auth_token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(session, box, tenant),
            "scope": scope,
        },
        headers={"Accept": "application/json"},
    )
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise ServiceError(f"{tenant.auth_token_url} answered without an access_token")
    lifetime = answer.get("expires_in", DEFAULT_LIFETIME_SECONDS)
    if not isinstance(lifetime, int | float) or lifetime <= 0:
        lifetime = DEFAULT_LIFETIME_SECONDS
    keep = max(int(lifetime) - EXPIRY_MARGIN_SECONDS, 1)
    put_value(session, ACCESS_TOKEN, cache_key, {"access_token": token}, timedelta(seconds=keep))
    return token
