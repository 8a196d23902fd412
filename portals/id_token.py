"""Checking an ID token: signature against the provider's keys, then its claims."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .errors import SignInRefused

# Clocks drift: a few seconds of leeway, and an ID token issued longer ago than this is
# not fresh from the code exchange that just happened.
LEEWAY_SECONDS = 60
MAX_AGE_SECONDS = 600
_ALGORITHM_NAME = re.compile(r"^[A-Za-z0-9+_-]{1,20}$")


def _check_algorithm(id_token: str, algorithms: tuple[str, ...]) -> None:
    """Refuse a token signed with an algorithm not allowed, naming it and those allowed.

    Raises:
        SignInRefused: ``bad_signature`` when there is no readable header,
            ``bad_algorithm`` when its ``alg`` is not one of ``algorithms``.
    """
    try:
        alg = jws.extract_compact(id_token.encode("ascii")).protected.get("alg")
    except (JoseError, ValueError, TypeError, UnicodeError) as exc:
        raise SignInRefused(
            "The portal's answer was not signed by the portal.", reason="bad_signature"
        ) from exc
    if alg in algorithms:
        return
    # The header is the sender's text: show it only if it looks like an algorithm name.
    shown = alg if isinstance(alg, str) and _ALGORITHM_NAME.match(alg) else "an unknown algorithm"
    allowed = ", ".join(algorithms)
    raise SignInRefused(
        f"The portal signed its answer with {shown}; Tandem accepts only {allowed} from this "
        "portal. Please tell your association.",
        reason="bad_algorithm",
        detail=f"ID token signed with {shown}, allowed: {allowed} (the algorithms the "
        "portal's discovery offers); register one of these at the portal",
    )


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
    _check_algorithm(id_token, algorithms)
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
