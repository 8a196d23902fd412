"""Configuration from ``TANDEM_*`` environment variables, checked before anything starts."""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from records import ConfigurationError, SecretBox, parse_database_url

# Values `tandem demo` writes into its instance folder; `tandem serve` refuses them.
DEMO_SECRET_PREFIX = "demo-only-"
MIN_SECRET_KEY_LENGTH = 32
# How many proxies an operator may say sit in front of Tandem (TANDEM_PROXY_COUNT).
MAX_PROXY_COUNT = 5
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def instance_path(environ: Mapping[str, str] | None = None) -> Path:
    """The instance folder: ``TANDEM_INSTANCE_PATH``, or ``./instance``."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("TANDEM_INSTANCE_PATH") or Path.cwd() / "instance").resolve()


def default_database_url(folder: Path) -> str:
    """The embedded default: an SQLite file in the instance folder."""
    return f"sqlite:///{folder / 'tandem.sqlite3'}"


def config_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read the ``TANDEM_*`` variables that are set; leave the rest to the defaults."""
    environ = os.environ if environ is None else environ
    names = {
        "TANDEM_DATABASE_URL": "TANDEM_DATABASE_URL",
        "TANDEM_SECRET_KEY": "SECRET_KEY",
        "TANDEM_ENCRYPTION_KEY": "TANDEM_ENCRYPTION_KEY",
        "TANDEM_SMTP_URL": "TANDEM_SMTP_URL",
        "TANDEM_BASE_URL": "TANDEM_BASE_URL",
        "TANDEM_ALLOW_INSECURE_URLS": "TANDEM_ALLOW_INSECURE_URLS",
        "TANDEM_PROXY_COUNT": "TANDEM_PROXY_COUNT",
        "TANDEM_LOG_FORMAT": "TANDEM_LOG_FORMAT",
        "TANDEM_METRICS_TOKEN": "TANDEM_METRICS_TOKEN",
        "TANDEM_REMIND_HOUR": "TANDEM_REMIND_HOUR",
    }
    config: dict[str, Any] = {key: environ[var] for var, key in names.items() if environ.get(var)}
    # Dynamic registration without an invite: only when the operator says so.
    if environ.get("TANDEM_OPEN_REGISTRATION", "").strip().lower() in ("1", "true", "yes", "on"):
        config["TANDEM_OPEN_REGISTRATION"] = True
    return config


def allow_insecure_urls(config: Mapping[str, Any]) -> bool:
    """The development switch ``TANDEM_ALLOW_INSECURE_URLS``: plain http and loopback.

    ``tandem demo`` and the test suite set it; a production deployment never does.

    Raises:
        ConfigurationError: the value is not a yes/no word.
    """
    value = config.get("TANDEM_ALLOW_INSECURE_URLS", False)
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise ConfigurationError(
        f"TANDEM_ALLOW_INSECURE_URLS is {value!r}; use 1 (development only) or leave it unset"
    )


def proxy_count(config: Mapping[str, Any]) -> int:
    """How many proxies sit in front (``TANDEM_PROXY_COUNT``, default 0: none trusted).

    Raises:
        ConfigurationError: not a whole number from 0 to ``MAX_PROXY_COUNT``.
    """
    value = config.get("TANDEM_PROXY_COUNT") or 0
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = -1
    if not 0 <= count <= MAX_PROXY_COUNT:
        raise ConfigurationError(
            f"TANDEM_PROXY_COUNT is {value!r}; give the number of proxies in front of "
            f"Tandem (0 to {MAX_PROXY_COUNT})"
        )
    return count


def check_base_url(url: str, *, allow_insecure: bool) -> str:
    """Check ``TANDEM_BASE_URL`` and return it without a trailing slash.

    The base URL is the one place absolute URLs come from (never the ``Host`` header):
    an https origin (scheme, host, optional port), plain http only under the
    development switch.

    Raises:
        ConfigurationError: naming what is wrong.
    """
    example = "e.g. https://tandem.example.org"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"TANDEM_BASE_URL {url!r} is not a URL ({example})") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(f"TANDEM_BASE_URL {url!r} is not an http(s) URL ({example})")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError("TANDEM_BASE_URL must not hold a user name or password")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError(
            f"TANDEM_BASE_URL {url!r} must be an origin only, without a path ({example})"
        )
    if parts.scheme == "http" and not allow_insecure:
        raise ConfigurationError(
            f"TANDEM_BASE_URL {url!r} is plain http; Tandem is served over https "
            "(LMS iframes need it). Plain http is for development only "
            "(TANDEM_ALLOW_INSECURE_URLS=1)"
        )
    host = parts.hostname
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}"


def apply_base_url(config: MutableMapping[str, Any], url: str) -> None:
    """Make ``url`` the app's base URL: absolute URLs, trusted hosts and cookie flags.

    Flask refuses (400) a request whose ``Host`` is not the base URL's host. Over https,
    every cookie is ``Secure; SameSite=None``: Tandem lives in LMS iframes, where only
    those reach it cross-site.

    Raises:
        ConfigurationError: the URL is not acceptable (see :func:`check_base_url`).
    """
    base = check_base_url(url, allow_insecure=allow_insecure_urls(config))
    config["TANDEM_BASE_URL"] = base
    config["TRUSTED_HOSTS"] = [urlsplit(base).hostname]
    secure = base.startswith("https://")
    config["SESSION_COOKIE_SECURE"] = secure
    config["SESSION_COOKIE_SAMESITE"] = "None" if secure else "Lax"


def check_config(config: Mapping[str, Any], *, production: bool) -> SecretBox:
    """Check the settings an app needs and return the secret box built from them.

    Args:
        config: the app's configuration.
        production: refuse the development values that ``tandem demo`` generates.

    Raises:
        ConfigurationError: with one line naming the variable and what is wrong.
    """
    parse_database_url(config.get("TANDEM_DATABASE_URL") or "")
    secret_key = config.get("SECRET_KEY") or ""
    if not secret_key:
        raise ConfigurationError(
            "TANDEM_SECRET_KEY is not set (sessions are signed with it; "
            f"use at least {MIN_SECRET_KEY_LENGTH} random characters)"
        )
    if production and (
        len(secret_key) < MIN_SECRET_KEY_LENGTH or secret_key.startswith(DEMO_SECRET_PREFIX)
    ):
        raise ConfigurationError(
            f"TANDEM_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} random characters "
            "and not a demo value"
        )
    encryption_key = config.get("TANDEM_ENCRYPTION_KEY") or ""
    if not encryption_key:
        raise ConfigurationError(
            "TANDEM_ENCRYPTION_KEY is not set (a Fernet key: make one with "
            "`tandem keys encryption-key`)"
        )
    allow_insecure_urls(config)
    proxy_count(config)
    return SecretBox.from_setting(encryption_key)


def require_base_url(config: Mapping[str, Any]) -> None:
    """Refuse to serve without a base URL (``tandem serve``'s check).

    Raises:
        ConfigurationError: ``TANDEM_BASE_URL`` is unset (or not acceptable).
    """
    url = config.get("TANDEM_BASE_URL") or ""
    if not url:
        raise ConfigurationError(
            "TANDEM_BASE_URL is not set: give the https address LMS admins paste, e.g. "
            "https://tandem.example.org (absolute URLs never come from the Host header)"
        )
    check_base_url(url, allow_insecure=allow_insecure_urls(config))
