"""Validating an id_token: every check a launch must pass before anything is written.

Tandem validates the JWT itself with PyJWT, strictly (RS256/384/512 only, required
claims, a small clock leeway), rather than through pylti1p3's ``MessageLaunch``, which
accepts a replayed id_token (it checks that a nonce exists but never consumes it),
accepts a list ``aud`` with a wrong ``azp`` and answers an unknown ``aud`` with a 500.
Registrations are found through :class:`~.tool_conf.DatabaseToolConf`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy.orm import Session

from records import SecretBox, Tenant

from . import claims as c
from . import registry
from .errors import LaunchError, LaunchForbidden, ServiceError
from .keysets import platform_key
from .state import LOGIN_STATE, pop_value
from .tool_conf import DatabaseToolConf

ALGORITHMS = ("RS256", "RS384", "RS512")
# Clock skew tolerated between platform and tool for `exp` and `iat`.
LEEWAY_SECONDS = 10
LTI_VERSION = "1.3.0"


@dataclass(frozen=True)
class ValidLaunch:
    """An id_token that passed every check, and the tenant it belongs to."""

    tenant: Tenant
    claims: dict[str, Any]
    message_type: str
    deployment_id: str
    sub: str


def _unverified(id_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        parts = jwt.decode_complete(id_token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise LaunchError("malformed_token", "the id_token is not a JSON Web Token") from exc
    return parts["header"], parts["payload"]


def _client_id(payload: Mapping[str, Any]) -> str:
    aud, azp = payload.get("aud"), payload.get("azp")
    audiences = [aud] if isinstance(aud, str) else aud
    if (
        not isinstance(audiences, list)
        or not audiences
        or not all(isinstance(a, str) for a in audiences)
    ):
        raise LaunchForbidden("bad_audience", "the id_token has no audience")
    if azp is not None and (not isinstance(azp, str) or azp not in audiences):
        raise LaunchForbidden("bad_azp", "the id_token's azp is not one of its audiences")
    if len(audiences) > 1 and azp is None:
        raise LaunchForbidden("bad_azp", "an id_token with several audiences must name azp")
    return azp if azp is not None else audiences[0]


def _tenant(tool_conf: DatabaseToolConf, payload: Mapping[str, Any]) -> Tenant:
    issuer = payload.get("iss")
    if not isinstance(issuer, str):
        raise LaunchForbidden("unknown_issuer", "the id_token names no issuer")
    client_id = _client_id(payload)
    tenant = tool_conf.find_tenant(issuer, client_id)
    if tenant is None and not registry.tenants_for_issuer(tool_conf.session, issuer):
        raise LaunchForbidden("unknown_issuer", "this platform is not registered with Tandem")
    if tenant is None:
        raise LaunchForbidden(
            "unknown_client_id", "this client id is not registered for the platform"
        )
    return tenant


def _verify(id_token: str, header: Mapping[str, Any], tenant: Tenant) -> dict[str, Any]:
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise LaunchForbidden(
            "unknown_kid", "the id_token names no signing key", tenant_id=tenant.id
        )
    try:
        jwk = platform_key(tenant, kid)
    except ServiceError as exc:
        raise LaunchError(
            "key_set_unavailable",
            "the platform's key set could not be fetched",
            tenant_id=tenant.id,
        ) from exc
    if jwk is None:
        raise LaunchForbidden(
            "unknown_kid",
            "the id_token's signing key is not in the platform's key set",
            tenant_id=tenant.id,
        )
    try:
        key = jwt.PyJWK(jwk, algorithm=header["alg"]).key
    except jwt.PyJWTError as exc:
        raise LaunchForbidden(
            "bad_signature", "the platform's key cannot verify this token", tenant_id=tenant.id
        ) from exc
    try:
        return jwt.decode(
            id_token,
            key,
            algorithms=[header["alg"]],
            audience=tenant.client_id,
            issuer=tenant.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise LaunchForbidden("expired", "the id_token has expired", tenant_id=tenant.id) from exc
    except jwt.ImmatureSignatureError as exc:
        raise LaunchForbidden(
            "issued_in_future", "the id_token was issued in the future", tenant_id=tenant.id
        ) from exc
    except jwt.InvalidSignatureError as exc:
        raise LaunchForbidden(
            "bad_signature", "the id_token's signature does not verify", tenant_id=tenant.id
        ) from exc
    except jwt.MissingRequiredClaimError as exc:
        raise LaunchError(
            "missing_claim", f"the id_token has no {exc.claim} claim", tenant_id=tenant.id
        ) from exc
    except jwt.PyJWTError as exc:
        raise LaunchForbidden(
            "invalid_token",
            f"the id_token is not valid: {type(exc).__name__}",
            tenant_id=tenant.id,
        ) from exc


def _check_message(session: Session, tenant: Tenant, payload: Mapping[str, Any]) -> None:
    def refuse(reason: str, message: str) -> LaunchError:
        return LaunchError(reason, message, tenant_id=tenant.id)

    if payload.get(c.VERSION) != LTI_VERSION:
        raise refuse("bad_version", f"Tandem speaks LTI {LTI_VERSION} only")
    message_type = payload.get(c.MESSAGE_TYPE)
    if message_type not in c.MESSAGE_TYPES:
        raise refuse("unknown_message_type", "Tandem does not handle this kind of message")
    deployment_id = payload.get(c.DEPLOYMENT_ID)
    if not isinstance(deployment_id, str) or not registry.has_deployment(
        session, tenant.id, deployment_id
    ):
        raise LaunchForbidden(
            "unknown_deployment", "this deployment is not registered", tenant_id=tenant.id
        )
    sub = payload.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise refuse("missing_sub", "the launch names no user (anonymous launches are refused)")
    if message_type == c.RESOURCE_LINK_REQUEST:
        link = payload.get(c.RESOURCE_LINK)
        if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]:
            raise refuse("missing_resource_link", "the launch has no resource link")
    else:
        settings = payload.get(c.DEEP_LINKING_SETTINGS)
        if not isinstance(settings, dict) or not isinstance(
            settings.get("deep_link_return_url"), str
        ):
            raise refuse("missing_deep_linking_settings", "the launch has no deep linking settings")


def _consume_state(
    session: Session, tenant: Tenant, state: str, nonce: Any, *, from_platform_storage: bool
) -> None:
    # Consumed first; a refusal below rolls back and so leaves the state for a retry.
    stored = pop_value(session, LOGIN_STATE, state)
    if stored is None:
        raise LaunchForbidden(
            "replayed_or_expired",
            "this launch was already used or has expired: open Tandem from your course again",
            tenant_id=tenant.id,
        )
    if from_platform_storage and stored.get("platform_storage") is not True:
        # Anyone can post a state as "read from platform storage": only a login that
        # used the platform's storage may skip the state cookie.
        raise LaunchForbidden(
            "storage_not_used",
            "this browser did not start this launch: open Tandem again",
            tenant_id=tenant.id,
        )
    if stored.get("tenant_id") != tenant.id:
        raise LaunchForbidden(
            "state_mismatch", "the launch does not match its login", tenant_id=tenant.id
        )
    if stored.get("nonce") != nonce:
        raise LaunchForbidden("nonce_mismatch", "the launch's nonce is wrong", tenant_id=tenant.id)


def validate_launch(
    session: Session,
    box: SecretBox,
    id_token: str,
    state: str,
    browser_state: str | None,
    *,
    from_platform_storage: bool = False,
) -> ValidLaunch:
    """Check an id_token form post and consume its state and nonce.

    Args:
        id_token: the posted ``id_token``.
        state: the posted ``state``.
        browser_state: the state the browser proved it holds (from the login's cookie
            or from the platform's postMessage storage), or ``None``.
        from_platform_storage: ``browser_state`` came from the platform's storage rather
            than the cookie; accepted only when the login recorded that it used it.

    Raises:
        LaunchError: with a ``reason`` naming the first check that failed. The caller
            rolls back and records the refusal; nothing else is written.
    """
    if not id_token or not state:
        raise LaunchError("missing_parameter", "the launch has no id_token or no state")
    if browser_state is None or browser_state != state:
        raise LaunchForbidden(
            "state_mismatch", "this browser did not start this launch: open Tandem again"
        )
    header, payload = _unverified(id_token)
    if header.get("alg") not in ALGORITHMS:
        raise LaunchForbidden("bad_algorithm", "the id_token is not signed with RSA")
    tool_conf = DatabaseToolConf(session, box)
    tenant = _tenant(tool_conf, payload)
    verified = _verify(id_token, header, tenant)
    _check_message(session, tenant, verified)
    _consume_state(
        session, tenant, state, verified.get("nonce"), from_platform_storage=from_platform_storage
    )
    return ValidLaunch(
        tenant=tenant,
        claims=verified,
        message_type=verified[c.MESSAGE_TYPE],
        deployment_id=verified[c.DEPLOYMENT_ID],
        sub=verified["sub"],
    )


def claimed_tenant_id(session: Session, id_token: str) -> int | None:
    """The tenant an id_token *claims* to come from, unverified, or ``None``.

    Only for choosing where to send postMessage storage requests (whose answers come
    from that origin alone); never for trusting anything the token says.
    """
    try:
        payload = jwt.decode(id_token, options={"verify_signature": False})
        issuer, client_id = payload.get("iss"), _client_id(payload)
    except (jwt.PyJWTError, LaunchError):
        return None
    if not isinstance(issuer, str):
        return None
    tenant = registry.find_tenant(session, issuer, client_id)
    return tenant.id if tenant is not None else None
