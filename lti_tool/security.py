"""Response headers: registered platforms, and only them, may frame Tandem; only the
page's own inline scripts (those carrying its nonce) run."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable

from flask import Flask, Response, g, session
from sqlalchemy.exc import SQLAlchemyError

import records
from platforms import platform_origins

# Registered platforms change rarely; a worker re-reads them at most this often.
ORIGINS_TTL_SECONDS = 60.0


class _OriginsCache:
    def __init__(self) -> None:
        self.value: frozenset[str] = frozenset()
        self.read_at = float("-inf")

    def get(self) -> frozenset[str]:
        if time.monotonic() - self.read_at > ORIGINS_TTL_SECONDS:
            self.value = frozenset(platform_origins(records.get_session()))
            self.read_at = time.monotonic()
        return self.value

    def clear(self) -> None:
        self.read_at = float("-inf")


def allow_framing_by(origins: Iterable[str]) -> None:
    """Let this response be framed by ``origins`` (a launch or registration knows them)."""
    g.frame_origins = set(origins)


def forget_platform_origins(app: Flask) -> None:
    """Make the next response re-read the registered platforms (after a registration)."""
    app.extensions["tandem.frame_origins"].clear()


def csp_nonce() -> str:
    """This response's script nonce: templates put it on each of their ``<script>`` tags.

    Nothing else runs: no injected script, no inline event handler, no script from
    elsewhere, even where escaping failed.
    """
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return str(g.csp_nonce)


def content_security_policy(ancestors: Iterable[str]) -> str:
    """The policy: framing by ``ancestors``; scripts by this response's nonce only."""
    nonce = g.get("csp_nonce")
    scripts = f"'nonce-{nonce}'" if nonce else "'none'"
    return "; ".join(
        [
            "frame-ancestors " + " ".join(["'self'", *sorted(ancestors)]),
            f"script-src {scripts}",
            "object-src 'none'",
            "base-uri 'none'",
        ]
    )


def init_app(app: Flask) -> None:
    """Add ``Content-Security-Policy`` (``frame-ancestors``, ``script-src``) to every
    response."""
    cache = _OriginsCache()
    app.extensions["tandem.frame_origins"] = cache
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _frame_ancestors(response: Response) -> Response:
        origins = g.get("frame_origins")
        if origins is None:
            origins = session.get("origins") if "tenant_id" in session else None
        if origins is None:
            try:
                origins = cache.get()
            except SQLAlchemyError:
                origins = frozenset()  # an error page must still go out
        response.headers["Content-Security-Policy"] = content_security_policy(origins)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        return response
