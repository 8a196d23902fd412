"""LTI Dynamic Registration: a platform admin pastes one URL and Tandem registers itself.

Registration is by invitation (:mod:`.invites`) unless the operator turns open
registration on. Every URL the platform names is checked by :func:`outbound.check_url`
before it is fetched or stored; the configuration must be served from its issuer's own
origin; the registration token goes only to that origin; and a registration never takes
over an existing tenant (see :func:`.registry.add_platform`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

import outbound
from records import Tenant

from .errors import RegistrationError, ServiceError
from .http import call_json
from .invites import redeem_invite
from .registry import PlatformSettings, add_deployments, add_platform, find_registration
from .tool_profile import ToolUrls, registration_request

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
REQUIRED = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
)
# Fetched or posted to by Tandem (the authorization endpoint is where browsers go).
FETCHED = ("token_endpoint", "jwks_uri", "registration_endpoint")
INVITE_REFUSED = (
    "This registration address is not valid: it was used already, has expired or never "
    "existed. Ask Tandem's operator for a new one (tandem platform invite)."
)


def check_platform_url(name: str, url: str) -> outbound.CheckedURL:
    """:func:`outbound.check_url`, with the refusal as a :class:`RegistrationError`."""
    try:
        return outbound.check_url(url)
    except outbound.URLRefused as exc:
        raise RegistrationError(f"{name}: {exc}", reason="url_refused") from exc


def _check_issuer(config: dict[str, Any], url: str) -> None:
    """The issuer must be exactly the configuration URL's scheme, host and port.

    A prefix test would let ``https://lms.example.edu@attacker.example/`` or
    ``https://lms.example.edu.attacker.example/`` speak for ``https://lms.example.edu``.
    """
    issuer = config["issuer"]
    parts = urlsplit(issuer)
    if (
        "@" in parts.netloc
        or parts.query
        or parts.fragment
        or outbound.origin_of(issuer) is None
        or outbound.origin_of(issuer) != outbound.origin_of(url)
    ):
        raise RegistrationError(
            "the platform's openid configuration names an issuer it is not served under: the "
            "issuer must be exactly the configuration URL's scheme, host and port",
            reason="issuer_mismatch",
        )


def _fetch_configuration(url: str, token: str | None) -> dict[str, Any]:
    check_platform_url("openid_configuration", url)
    headers = {"Accept": "application/json"}
    if token:
        # Moodle answers its configuration only to the holder of the registration token.
        headers["Authorization"] = f"Bearer {token}"
    config = call_json("GET", url, headers=headers)
    if not isinstance(config, dict):
        raise RegistrationError("the platform's openid configuration is not a JSON object")
    missing = [name for name in REQUIRED if not isinstance(config.get(name), str)]
    if missing:
        raise RegistrationError(f"the platform's openid configuration lacks {', '.join(missing)}")
    _check_issuer(config, url)
    check_platform_url("authorization_endpoint", config["authorization_endpoint"])
    for name in FETCHED:
        check_platform_url(name, config[name])
    # The registration token is the platform's: it goes back to the origin that issued
    # it, never to a host the configuration merely names.
    if not outbound.same_origin(config["registration_endpoint"], url):
        raise RegistrationError(
            "the platform's registration_endpoint is not on its configuration's origin",
            reason="url_refused",
        )
    return config


def register_dynamically(
    session: Session,
    openid_configuration: str,
    registration_token: str | None,
    urls: ToolUrls,
    *,
    invite: str | None,
    open_registration: bool = False,
) -> Tenant:
    """Register Tandem with a platform and store the platform as a tenant.

    Consumes the invite first (nothing is fetched without one, unless open registration
    is on), fetches the platform's openid configuration, POSTs Tandem's client
    registration to its registration endpoint, and stores the client id and deployment
    it answers.

    Raises:
        RegistrationError: no valid invite; a URL is refused; the configuration or the
            answer is malformed; the issuer and client id belong to an existing tenant
            with other URLs, or to a removed one.
        ServiceError: the platform could not be reached or refused.
    """
    granted = redeem_invite(session, invite) if invite else None
    if granted is None and not open_registration:
        raise RegistrationError(INVITE_REFUSED, reason="no_invite", status=403)
    config = _fetch_configuration(openid_configuration, registration_token)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    answer = call_json(
        "POST",
        config["registration_endpoint"],
        json=registration_request(urls, config),
        headers=headers,
    )
    client_id = answer.get("client_id") if isinstance(answer, dict) else None
    if not isinstance(client_id, str) or not client_id:
        raise ServiceError("the platform's registration answer has no client_id")
    tool_config = answer.get(TOOL_CONFIGURATION) or {}
    deployment_id = tool_config.get("deployment_id") if isinstance(tool_config, dict) else None
    deployments = (str(deployment_id),) if deployment_id else ()
    platform = config.get(PLATFORM_CONFIGURATION) or {}
    product = platform.get("product_family_code") if isinstance(platform, dict) else None
    settings = PlatformSettings(
        issuer=config["issuer"],
        client_id=client_id,
        auth_login_url=config["authorization_endpoint"],
        auth_token_url=config["token_endpoint"],
        auth_audience=config.get("authorization_server"),
        key_set_url=config["jwks_uri"],
        deployment_ids=deployments,
        name=(granted or {}).get("name"),
        product=product.lower() if isinstance(product, str) else None,
    )
    existing = find_registration(session, settings.issuer, client_id)
    if existing is not None and existing.active and _same_urls(existing, settings):
        # The same install registering again (a second deployment): nothing else changes.
        add_deployments(session, existing, deployments)
        return existing
    # A new registration; add_platform refuses a removed tenant's or another's identity.
    return add_platform(session, settings)


def _same_urls(tenant: Tenant, settings: PlatformSettings) -> bool:
    return (
        tenant.auth_login_url == settings.auth_login_url
        and tenant.auth_token_url == settings.auth_token_url
        and tenant.key_set_url == settings.key_set_url
    )
