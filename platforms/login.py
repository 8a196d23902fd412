"""OIDC third-party login initiation: the first leg of every launch."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from . import registry
from .errors import LoginError
from .state import LOGIN_STATE, add_value

# Long enough for a slow platform sign-in page, short enough that a leaked state is stale.
STATE_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class LoginRedirect:
    """Where to send the browser, and what the launch will need to find again."""

    url: str
    state: str
    nonce: str
    tenant_id: int
    storage_target: str | None
    platform_origin: str | None
    # Where the platform's pages live: only they may frame the answer.
    frame_origins: frozenset[str] = frozenset()


def start_login(session: Session, params: Mapping[str, str], launch_url: str) -> LoginRedirect:
    """Check a login initiation request and prepare the authentication redirect.

    Stores the state (with its nonce and tenant) for the launch to consume.

    Args:
        params: the request's parameters (``iss``, ``login_hint``, ``target_link_uri``,
            and optionally ``client_id``, ``lti_message_hint``, ``lti_deployment_id``,
            ``lti_storage_target``).
        launch_url: the tool's absolute ``/lti/launch`` URL (the ``redirect_uri``).

    Raises:
        LoginError: a parameter is missing, or the issuer/client id is not registered.
    """
    issuer = (params.get("iss") or "").strip()
    for name in ("iss", "login_hint", "target_link_uri"):
        if not (params.get(name) or "").strip():
            raise LoginError("missing_parameter", f"the login request has no {name}", issuer=issuer)
    client_id = (params.get("client_id") or "").strip() or None
    deployment_id = (params.get("lti_deployment_id") or "").strip() or None
    tenants = registry.resolve_tenant(session, issuer, client_id, deployment_id)
    if len(tenants) > 1:
        raise LoginError(
            "client_id_needed",
            "this platform has several registrations in Tandem and the login request names "
            "neither client_id nor a deployment of only one of them: add client_id (the "
            "tool's client ID in the platform's settings) to the login request",
            issuer=issuer,
        )
    tenant = tenants[0] if tenants else None
    if tenant is None or not tenant.auth_login_url:
        raise LoginError("unknown_platform", "this platform is not registered", issuer=issuer)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    storage_target = (params.get("lti_storage_target") or "").strip() or None
    add_value(
        session,
        LOGIN_STATE,
        state,
        {
            "nonce": nonce,
            "tenant_id": tenant.id,
            "target_link_uri": params["target_link_uri"],
            # Only a login that asked for the platform's storage may be completed through
            # it; every other launch must show the state cookie (login CSRF).
            "platform_storage": storage_target is not None,
        },
        STATE_LIFETIME,
    )
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": tenant.client_id,
        "redirect_uri": launch_url,
        "login_hint": params["login_hint"],
        "state": state,
        "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in tenant.auth_login_url else "?"
    return LoginRedirect(
        url=f"{tenant.auth_login_url}{separator}{urlencode(query)}",
        state=state,
        nonce=nonce,
        tenant_id=tenant.id,
        storage_target=storage_target,
        platform_origin=registry.origin_of(tenant.auth_login_url),
        frame_origins=frozenset(registry.tenant_origins(tenant)),
    )
