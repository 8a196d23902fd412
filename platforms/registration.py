"""LTI Dynamic Registration: a platform admin pastes one URL and Tandem registers itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Tenant

from .errors import RegistrationError, ServiceError
from .http import call_json
from .registry import PlatformSettings, add_deployments, add_platform
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


def _fetch_configuration(url: str, token: str | None, *, allow_insecure: bool) -> dict[str, Any]:
    # Moodle registers tools over plain http on a development site: only the development
    # switch lets that through; a production LMS must use https.
    schemes = ("https", "http") if allow_insecure else ("https",)
    if urlsplit(url).scheme not in schemes:
        raise RegistrationError(
            "openid_configuration must be an https URL (plain http only on a development "
            "install with TANDEM_ALLOW_INSECURE_URLS=1)"
        )
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
    # The spec's guard: a configuration may only speak for the issuer it is served under.
    if not url.startswith(config["issuer"].rstrip("/")):
        raise RegistrationError(
            f"the openid configuration at {url} claims issuer {config['issuer']}, "
            "which it is not served under"
        )
    return config


def register_dynamically(
    session: Session,
    openid_configuration: str,
    registration_token: str | None,
    urls: ToolUrls,
    *,
    allow_insecure: bool = False,
) -> Tenant:
    """Register Tandem with a platform and store the platform as a tenant.

    Fetches the platform's openid configuration, POSTs Tandem's client registration to
    its registration endpoint, and stores the client id and deployment it answers.

    Args:
        allow_insecure: the development switch ``TANDEM_ALLOW_INSECURE_URLS``: a plain
            http platform (a local Moodle) may register.

    Raises:
        RegistrationError: the configuration or the answer is malformed.
        ServiceError: the platform could not be reached or refused.
    """
    config = _fetch_configuration(
        openid_configuration, registration_token, allow_insecure=allow_insecure
    )
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
    existing = session.scalars(
        select(Tenant).where(
            Tenant.issuer == config["issuer"], Tenant.client_id == client_id, Tenant.active
        )
    ).first()
    if existing is not None:
        add_deployments(session, existing, deployments)
        return existing
    return add_platform(
        session,
        PlatformSettings(
            issuer=config["issuer"],
            client_id=client_id,
            auth_login_url=config["authorization_endpoint"],
            auth_token_url=config["token_endpoint"],
            auth_audience=config.get("authorization_server"),
            key_set_url=config["jwks_uri"],
            deployment_ids=deployments,
            product=product.lower() if isinstance(product, str) else None,
        ),
    )
