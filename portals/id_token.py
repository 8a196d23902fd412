"""Checking an ID token: signature against the provider's keys, then its claims."""

from __future__ import annotations

import secrets
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .errors import SignInRefused

# Clocks drift: a few seconds of leeway, and an ID token issued longer ago than this is
# not fresh from the code exchange that just happened.
LEEWAY_SECONDS = 60
MAX_AGE_SECONDS = 600


def verify_id_token(
    id_token: str,
    key_set: dict[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    algorithms: tuple[str, ...],
    now: int | None = None,
) -> dict[str, Any]:
    """The claims of ``id_token``, once its signature and iss, aud, azp, exp, iat, nonce
    and sub have been checked (OpenID Connect Core 1.0, section 3.1.3.7).

    Raises:
        SignInRefused: with ``reason`` naming what was wrong (``bad_signature``,
            ``expired``, ``bad_claims``...).
    """
    now = int(time.time()) if now is None else now
    try:
        keys = KeySet.import_key_set(key_set)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise SignInRefused(
            "The portal's public keys could not be read.", reason="bad_jwks"
        ) from exc
    try:
        token = jwt.decode(id_token, keys, algorithms=list(algorithms))
    except (JoseError, ValueError, TypeError) as exc:
        # Forged, tampered, signed by a key the portal does not publish, or not a JWT.
        raise SignInRefused(
            "The portal's answer was not signed by the portal.", reason="bad_signature"
        ) from exc
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        reason = "expired" if getattr(exc, "error", "") == "expired_token" else "bad_claims"
        raise SignInRefused(
            f"The portal's answer was not valid for this sign-in ({exc.description}).",
            reason=reason,
        ) from exc
    if not secrets.compare_digest(str(claims["nonce"]), nonce):
        # A list holding the nonce passes the registry's check; only the string itself may.
        raise SignInRefused("The portal's answer was for another sign-in.", reason="bad_claims")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise SignInRefused(
            "The portal's answer was meant for another application.", reason="bad_claims"
        )
    iat = claims["iat"]
    if not isinstance(iat, int | float) or iat < now - MAX_AGE_SECONDS:
        raise SignInRefused("The portal's answer is too old.", reason="expired")
    if not claims["sub"] or len(claims["sub"]) > 255:
        raise SignInRefused("The portal's answer names no usable subject.", reason="bad_claims")
    return dict(claims)
