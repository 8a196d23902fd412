"""The ``tandem`` command group and what its commands share."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from flask import Flask
from sqlalchemy.orm import Session

import records
from records import ConfigurationError, parse_database_url

from .. import config as tandem_config
from ..app import create_app

EXIT_CONFIG = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Tandem: mentoring programmes inside your learning platform."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one plain line to stderr and exit with ``code``."""
    click.echo(f"tandem: {message}", err=True)
    raise SystemExit(code)


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    """``create_app``, with configuration errors turned into one line and exit code 2."""
    try:
        return create_app(config)
    except ConfigurationError as exc:
        fail(str(exc), EXIT_CONFIG)


@contextmanager
def app_transaction(app: Flask) -> Iterator[Session]:
    """An app context and one database transaction, for a command's work."""
    with app.app_context(), records.get_database(app).transaction() as session:
        yield session


class DryRun(Exception):
    """Raised inside :func:`app_transaction` to roll a dry run back, carrying its result."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


@contextmanager
def read_only_transaction() -> Iterator[Session]:
    """A database transaction for commands that only read (``member list``, ...).

    They need the database and nothing else: not ``TANDEM_SECRET_KEY`` (sessions) nor
    ``TANDEM_ENCRYPTION_KEY`` (no secret is read), so no app is built. The transaction
    is rolled back: a read-only command writes nothing.
    """
    environ = tandem_config.config_from_env()
    url = environ.get("TANDEM_DATABASE_URL") or tandem_config.default_database_url(
        tandem_config.instance_path()
    )
    try:
        parse_database_url(url)
        database = records.Database(url)
    except ConfigurationError as exc:
        fail(str(exc), EXIT_CONFIG)
    try:
        with database.sessionmaker() as session:
            try:
                yield session
            finally:
                session.rollback()
    finally:
        database.dispose()
