"""Deep linking: a coordinator places a programme in a course."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from sqlalchemy.orm import Session

from records import Programme, SecretBox, Tenant

from . import claims as c
from .ags import lineitem_payload
from .errors import DeepLinkingError
from .keys import signing_key
from .registry import origin_of, tenant_origins

DEFAULT_SCORE_MAXIMUM = 100


@dataclass(frozen=True)
class DeepLinkResponse:
    """The signed response and where the browser must post it."""

    return_url: str
    jwt: str


def deep_link_return_url(tenant: Tenant, launch: dict[str, Any], *, allow_insecure: bool) -> str:
    """Where the signed answer may be posted: the launch's return URL, once checked.

    The browser posts the answer wherever this URL says, from Tandem's own page: a
    ``javascript:`` URL would run script in Tandem's origin, and another host would
    receive a signed placement. So it must be https (http only under the development
    switch ``TANDEM_ALLOW_INSECURE_URLS``) on an origin the platform registered (its
    issuer, login URL or listed origins), with no user-info part and no character a
    browser might read differently (spaces, controls).

    Raises:
        DeepLinkingError: the URL is missing or not the platform's.
    """
    settings = launch.get("deep_linking_settings")
    url = settings.get("deep_link_return_url") if isinstance(settings, dict) else None
    if not isinstance(url, str) or not url:
        raise DeepLinkingError(
            "the platform sent no return address: add Tandem to the course again"
        )
    schemes = ("https", "http") if allow_insecure else ("https",)
    try:
        parts = urlsplit(url)
        has_user_info = parts.username is not None or parts.password is not None
        scheme = parts.scheme.lower()
    except ValueError:  # e.g. a malformed IPv6 host or port
        has_user_info, scheme = True, ""
    origin = origin_of(url)
    registered = {o.lower() for o in tenant_origins(tenant)}
    if (
        any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url)
        or scheme not in schemes
        or has_user_info
        or origin is None
        or origin.lower() not in registered
    ):
        wanted = "an http(s)" if allow_insecure else "an https"
        raise DeepLinkingError(
            f"the platform's return address is not {wanted} address of the registered "
            "platform, so Tandem will not send the placement there"
        )
    return url


def place_programme(
    session: Session,
    box: SecretBox,
    launch: dict[str, Any],
    target_link_uri: str,
    programme: Programme,
    *,
    allow_insecure: bool = False,
) -> DeepLinkResponse:
    """Build the signed deep linking response placing ``programme``.

    The caller loads or creates the programme through :mod:`programmes`: the one rule
    for which programmes a coordinator may place, and the one way programmes are made.

    Args:
        launch: the stored launch data of the deep linking request.
        target_link_uri: the tool URL the resource link opens.
        allow_insecure: the development switch: an http return URL is accepted.

    Raises:
        DeepLinkingError: the launch was no deep linking request, its return URL is not
            the platform's, or the programme is another platform's.
    """
    settings = launch.get("deep_linking_settings")
    if launch.get("message_type") != c.DEEP_LINKING_REQUEST or not isinstance(settings, dict):
        raise DeepLinkingError("this is not a deep linking launch: open Tandem's picker again")
    tenant = session.get(Tenant, launch["tenant_id"])
    if tenant is None:
        raise DeepLinkingError("this platform is no longer registered")
    return_url = deep_link_return_url(tenant, launch, allow_insecure=allow_insecure)
    if programme.tenant_id != tenant.id:
        raise DeepLinkingError(f"programme {programme.id} is not one of this platform's")
    item: dict[str, Any] = {
        "type": "ltiResourceLink",
        "title": programme.name,
        "url": target_link_uri,
        "custom": {c.PROGRAMME_PARAM: str(programme.id)},
    }
    ags = launch.get("ags") or {}
    if c.SCOPE_LINEITEM in (ags.get("scope") or []):
        item["lineItem"] = lineitem_payload(programme.name, programme.id, DEFAULT_SCORE_MAXIMUM)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": tenant.client_id,
        "aud": [tenant.issuer],
        "iat": now,
        "exp": now + 600,
        "nonce": secrets.token_urlsafe(24),
        c.DEPLOYMENT_ID: launch["deployment_id"],
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: "1.3.0",
        c.DEEP_LINKING_CONTENT_ITEMS: [item],
    }
    if settings.get("data") is not None:
        claims[c.DEEP_LINKING_DATA] = settings["data"]
    key = signing_key(session, box)
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    return DeepLinkResponse(return_url=return_url, jwt=token)
