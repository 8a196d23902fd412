"""Absolute URLs of the tool, as platforms must see them."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint``: under ``TANDEM_BASE_URL`` when set.

    Behind a proxy the request's own host may be internal; the configured base URL is
    what LMS admins pasted and what platforms check ``redirect_uri`` against.
    """
    base = current_app.config.get("TANDEM_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def is_https() -> bool:
    """Whether the tool is served over https (cookies must then be ``SameSite=None; Secure``)."""
    base = current_app.config.get("TANDEM_BASE_URL") or ""
    return base.startswith("https://") or request.is_secure
