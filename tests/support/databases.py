"""Real databases for tests: an SQLite file and, when configured, a PostgreSQL server.

``TANDEM_TEST_POSTGRES_URL`` names a PostgreSQL server database the suite may create
databases in (``scripts/test`` starts a throwaway cluster and sets it). Database tests
run once per backend; when the URL is set and the server is unreachable, they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from records import Base, ExpiringValue, make_engine, migrate

POSTGRES_URL_VARIABLE = "TANDEM_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_URL_VARIABLE) or None


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if postgres_url() else ["sqlite"]


class PostgresServer:
    """Creates and drops databases on the test server."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self._admin = make_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=None)

    def create_database(self) -> str:
        name = f"tandem_test_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def dispose(self) -> None:
        self._admin.dispose()


class MigratedDatabases:
    """Hands each test a clean database at the newest schema, cheaply.

    SQLite: one migrated template file, copied per test. PostgreSQL: one migrated
    database for the session, emptied with TRUNCATE after each test.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._sqlite_template: Path | None = None
        self._postgres: PostgresServer | None = None
        self._postgres_url: str | None = None

    def sqlite_url(self) -> str:
        if self._sqlite_template is None:
            template = self.workdir / "template.sqlite3"
            engine = make_engine(f"sqlite:///{template}")
            migrate.upgrade(engine)
            engine.dispose()
            self._sqlite_template = template
        target = self.workdir / f"{uuid.uuid4().hex}.sqlite3"
        shutil.copyfile(self._sqlite_template, target)
        return f"sqlite:///{target}"

    @property
    def postgres(self) -> PostgresServer:
        if self._postgres is None:
            url = postgres_url()
            if url is None:
                raise RuntimeError(f"{POSTGRES_URL_VARIABLE} is not set")
            self._postgres = PostgresServer(url)
        return self._postgres

    def postgres_url(self) -> str:
        if self._postgres_url is None:
            url = self.postgres.create_database()
            engine = make_engine(url)
            migrate.upgrade(engine)
            engine.dispose()
            self._postgres_url = url
        return self._postgres_url

    def empty_postgres(self, engine: Engine) -> None:
        names = [t.name for t in Base.metadata.sorted_tables]
        # The job queue's tables (PostgreSQL only) are emptied too: no test sees
        # another's jobs.
        names += [
            name for name in inspect(engine).get_table_names() if name.startswith("procrastinate_")
        ]
        tables = ", ".join(f'"{name}"' for name in names)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    def url(self, backend: str) -> Iterator[str]:
        if backend == "sqlite":
            yield self.sqlite_url()
        else:
            url = self.postgres_url()
            try:
                yield url
            finally:
                engine = make_engine(url)
                self.empty_postgres(engine)
                engine.dispose()

    def close(self) -> None:
        if self._postgres is not None:
            if self._postgres_url is not None:
                self._postgres.drop_database(self._postgres_url)
            self._postgres.dispose()


def table_row_counts(session: Session) -> dict[str, int]:
    """How many rows each table holds, for "nothing else was written" checks.

    Rate-limit counters (``lti_tool.ratelimits``, in ``expiring_values``) are left out:
    they count every call to a limited endpoint, refused or not, by design (a flood of
    bad requests must be limited too); ``tests/lti/test_web_security.py`` checks them.
    """
    from lti_tool.ratelimits import NAMESPACE

    counts = {
        table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
        for table in Base.metadata.sorted_tables
    }
    counts["expiring_values"] -= int(
        session.scalar(
            select(func.count())
            .select_from(ExpiringValue)
            .where(ExpiringValue.namespace == NAMESPACE)
        )
        or 0
    )
    return counts
