"""Absolute URLs of the tool, as platforms and members must see them.

They come from ``TANDEM_BASE_URL`` only, never from the request's ``Host`` header: a
forged ``Host`` must not be able to put an attacker's address into a sign-in link or an
LTI redirect URI (``lti_tool.config.apply_base_url`` also makes Flask refuse such a host).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, url_for

from records import ConfigurationError

# Shown in place of the base URL where a command prints addresses without one set.
BASE_URL_PLACEHOLDER = "<TANDEM_BASE_URL>"


def base_url() -> str:
    """``TANDEM_BASE_URL`` (checked and without a trailing slash by ``create_app``).

    Raises:
        ConfigurationError: it is not set.
    """
    base = current_app.config.get("TANDEM_BASE_URL")
    if not base:
        raise ConfigurationError("TANDEM_BASE_URL is not set: Tandem cannot make absolute URLs")
    return str(base).rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` under ``TANDEM_BASE_URL``.

    The base URL is what LMS admins pasted and what platforms check ``redirect_uri``
    against; behind a proxy the request's own host may be internal or forged.

    Raises:
        ConfigurationError: ``TANDEM_BASE_URL`` is not set.
    """
    return base_url() + url_for(endpoint, **values)


def printable_url(endpoint: str, **values: Any) -> str:
    """:func:`external_url`, or the path under a placeholder when no base URL is set
    (for commands that print addresses for an operator)."""
    if current_app.config.get("TANDEM_BASE_URL"):
        return external_url(endpoint, **values)
    return BASE_URL_PLACEHOLDER + url_for(endpoint, **values)


def base_host() -> str:
    """The base URL's host name (e.g. for calendar UIDs), never the request's."""
    return urlsplit(base_url()).hostname or ""


def is_https() -> bool:
    """Whether the tool is served over https (cookies must then be ``SameSite=None; Secure``)."""
    return base_url().startswith("https://")


def cookie_flags() -> dict[str, Any]:
    """``set_cookie``/``delete_cookie`` flags for Tandem's own cookies (state, session alike).

    Over https: ``Secure; SameSite=None``, since inside an LMS or portal iframe every
    request is cross-site and only those cookies reach Tandem. Plain http is local
    development (the switch ``TANDEM_ALLOW_INSECURE_URLS``): ``SameSite=Lax``.
    """
    secure = is_https()
    return {"secure": secure, "httponly": True, "samesite": "None" if secure else "Lax"}


def url_context(app: Flask) -> Any:
    """A request context under ``TANDEM_BASE_URL`` for commands that build addresses.

    A plain ``test_request_context()`` asks for ``localhost``, which the trusted hosts
    refuse once a base URL is set, and ``url_for`` then has nothing to build with.
    """
    return app.test_request_context(base_url=app.config.get("TANDEM_BASE_URL") or None)
