"""Configuration from ``TANDEM_*`` environment variables, checked before anything starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from records import ConfigurationError, SecretBox, parse_database_url

# Values `tandem demo` writes into its instance folder; `tandem serve` refuses them.
DEMO_SECRET_PREFIX = "demo-only-"
MIN_SECRET_KEY_LENGTH = 32


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
        "TANDEM_LOG_FORMAT": "TANDEM_LOG_FORMAT",
        "TANDEM_METRICS_TOKEN": "TANDEM_METRICS_TOKEN",
        "TANDEM_REMIND_HOUR": "TANDEM_REMIND_HOUR",
    }
    return {key: environ[var] for var, key in names.items() if environ.get(var)}


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
    return SecretBox.from_setting(encryption_key)
