"""Fixtures shared by every test package.

Database fixtures run each test once per backend: SQLite always, PostgreSQL when
``TANDEM_TEST_POSTGRES_URL`` is set (``scripts/test`` sets it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

import jobs
from lti_tool.app import create_app
from lti_tool.cli import main
from outbound import INSECURE_SWITCH
from records import Database, SecretBox
from tests.support import databases
from tests.support.browser import live_server
from tests.support.clients import BaseUrlClient
from tests.support.smtp import Inbox, smtp_server

# The suite's platforms, portal provider, directories and SMTP server listen on loopback
# over plain http: the development switch lets Tandem reach them. Tests that prove the
# production refusals turn it off with the ``production_urls`` fixture.
os.environ[INSECURE_SWITCH] = "1"

TEST_SECRET_KEY = "test-secret-key-0123456789abcdef0123456789"
TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()


def pytest_report_header(config: pytest.Config) -> str:
    return f"tandem database backends: {', '.join(databases.backends())}"


@pytest.fixture(scope="session")
def migrated_databases(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[databases.MigratedDatabases]:
    pool = databases.MigratedDatabases(tmp_path_factory.mktemp("databases"))
    yield pool
    pool.close()


@pytest.fixture(params=databases.backends())
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this run of the test: ``sqlite`` or ``postgresql``."""
    return request.param


@pytest.fixture
def database_url(backend: str, migrated_databases: databases.MigratedDatabases) -> Iterator[str]:
    """A clean database at the newest schema."""
    yield from migrated_databases.url(backend)


@pytest.fixture
def empty_database_url(
    backend: str, migrated_databases: databases.MigratedDatabases, tmp_path: Path
) -> Iterator[str]:
    """A database with no tables at all, for migration tests."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    url = migrated_databases.postgres.create_database()
    try:
        yield url
    finally:
        migrated_databases.postgres.drop_database(url)


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[tuple[Inbox, str]]:
    """A local SMTP server that the jobs of every test may mail to; its inbox and URL.

    Services queue mail (a published match day, an answered proposal) as jobs; a test
    that reads what was sent starts a server of its own (``tests.support.smtp``).
    """
    with smtp_server() as sink:
        yield sink


@pytest.fixture
def database(database_url: str, mail_sink: tuple[Inbox, str]) -> Iterator[Database]:
    """The database, with a job runtime attached as every Tandem process has one: jobs
    deferred in a test's transaction run after its commit on SQLite (inline, as in
    commands) and wait in the queue on PostgreSQL (``tests.support.jobs``)."""
    db = Database(database_url)
    jobs.attach(
        jobs.Runtime(
            database=db,
            box=SecretBox([TEST_ENCRYPTION_KEY]),
            settings={"TANDEM_SMTP_URL": mail_sink[1]},
        )
    )
    yield db
    db.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session the test drives itself (commit or not, as the test needs)."""
    with database.sessionmaker() as s:
        yield s


@pytest.fixture
def app_config(database_url: str, tmp_path: Path, mail_sink: tuple[Inbox, str]) -> dict:
    return {
        "TESTING": True,
        "TANDEM_DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        # The test client's host; plain http under the development switch.
        "TANDEM_BASE_URL": "http://localhost",
        "TANDEM_ALLOW_INSECURE_URLS": True,
        # Jobs that mail (match day, proposal outcomes) have somewhere to send.
        "TANDEM_SMTP_URL": mail_sink[1],
    }


@pytest.fixture
def app(app_config: dict) -> Iterator[Flask]:
    application = create_app(app_config)
    application.test_client_class = BaseUrlClient
    yield application
    application.extensions["tandem.database"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client that reaches the app at its base URL (its only trusted host)."""
    return app.test_client()


@pytest.fixture
def cli(app_config: dict) -> Callable[[list[str]], Result]:
    """Run a `tandem` command against the test database, as an operator would."""
    env = {
        "TANDEM_DATABASE_URL": app_config["TANDEM_DATABASE_URL"],
        "TANDEM_SECRET_KEY": app_config["SECRET_KEY"],
        "TANDEM_ENCRYPTION_KEY": app_config["TANDEM_ENCRYPTION_KEY"],
        "TANDEM_INSTANCE_PATH": app_config["INSTANCE_PATH"],
    }

    def invoke(args: list[str]) -> Result:
        return CliRunner().invoke(main, args, env=env)

    return invoke


@pytest.fixture
def production_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn the development switch off: outbound URLs are checked as in production."""
    monkeypatch.delenv(INSECURE_SWITCH)


# A public address (example.com's) that test names resolve to under ``public_dns``.
PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture
def public_dns(production_urls: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Production URL checks, with every test host name resolving to a public address.

    The names of the mocked platforms (``moodle.example.edu``, ...) resolve nowhere; here
    they resolve to :data:`PUBLIC_ADDRESS`, and address literals to themselves, so that
    the check's address rules run as in production. ``responses`` answers before any
    connection is made.
    """
    import ipaddress

    import outbound.urls

    def resolve(host: str, port: int) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            return [PUBLIC_ADDRESS]

    monkeypatch.setattr(outbound.urls, "resolve", resolve)


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """The test app served on a free loopback port, for a real browser."""
    with live_server(app) as url:
        yield url
