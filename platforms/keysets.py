"""Platform key sets: cached on the tenant, refetched once when an unknown ``kid`` appears."""

from __future__ import annotations

from typing import Any

from records import Tenant, utcnow

from .errors import ServiceError
from .http import call_json


def _find(key_set: dict[str, Any] | None, kid: str) -> dict[str, Any] | None:
    for key in (key_set or {}).get("keys", []):
        if isinstance(key, dict) and key.get("kid") == kid:
            return key
    return None


def fetch_key_set(tenant: Tenant) -> dict[str, Any]:
    """Fetch the platform's JWKS and cache it on the tenant.

    Raises:
        ServiceError: the key set URL failed or did not answer a JWKS.
    """
    if not tenant.key_set_url:
        raise ServiceError(f"tenant {tenant.id} has no key set URL")
    key_set = call_json("GET", tenant.key_set_url, headers={"Accept": "application/json"})
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        raise ServiceError(f"{tenant.key_set_url} did not answer a JSON Web Key Set")
    tenant.key_set, tenant.key_set_fetched_at = key_set, utcnow()
    return key_set


def platform_key(tenant: Tenant, kid: str) -> dict[str, Any] | None:
    """The platform's public JWK with this ``kid``, or ``None``.

    Looks in the cached key set first; on a miss, refetches the key set once (the
    platform may have rotated) and looks again.

    Raises:
        ServiceError: the refetch failed.
    """
    key = _find(tenant.key_set, kid)
    if key is not None:
        return key
    return _find(fetch_key_set(tenant), kid)
