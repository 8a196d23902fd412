"""Engines and sessions: one ``Database`` per app, one session per request or command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from .errors import ConfigurationError

if TYPE_CHECKING:
    from flask import Flask

SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def parse_database_url(url: str) -> URL:
    """Check a database URL and return it parsed.

    Raises:
        ConfigurationError: the URL is malformed or names a backend Tandem does not run on.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigurationError(
            "TANDEM_DATABASE_URL is not a database URL (expected e.g. "
            "'sqlite:///path/tandem.sqlite3' or 'postgresql+psycopg://user@host/db')"
        ) from exc
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ConfigurationError(
            f"TANDEM_DATABASE_URL names the backend {parsed.get_backend_name()!r}; "
            "Tandem runs on sqlite or postgresql"
        )
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() not in (
        "psycopg",
        "psycopg2",
    ):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite enforces foreign keys only when asked, per connection: without this the
    # composite same-tenant keys would be decoration.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_savepoint_inside_a_transaction(connection: Any, _name: str) -> None:
    # Python's sqlite3 opens a transaction only before a write. A SAVEPOINT issued after
    # nothing but reads therefore becomes the outermost transaction, and releasing it
    # commits: the caller's later rollback would leave the savepoint's rows behind (half
    # an update). Open the real transaction first, so the savepoint nests inside it.
    dbapi_connection = connection.connection.driver_connection
    if not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with Tandem's per-backend settings."""
    parsed = parse_database_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_savepoint_inside_a_transaction)
        if parsed.database not in (None, "", ":memory:"):

            @event.listens_for(engine, "connect")
            def _wal(dbapi_connection: Any, _record: Any) -> None:
                # WAL lets readers proceed while one worker writes; with WAL,
                # synchronous=NORMAL is still safe against corruption and skips the
                # fsync on every commit (a commit may be lost on power failure only).
                dbapi_connection.execute("PRAGMA journal_mode=WAL")
                dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return engine


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str | URL, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on any error."""
        with self.sessionmaker() as session, session.begin():
            yield session

    @contextmanager
    def single_statement(self) -> Iterator[Session]:
        """A session for one statement that is atomic by itself (an upsert), on a
        connection in autocommit: no BEGIN and COMMIT round trips around it."""
        with (
            self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
            Session(bind=connection) as session,
        ):
            yield session

    def ping(self) -> None:
        """Run a trivial query; raises the driver's error when the database is unreachable."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        # render_as_string hides the password by default.
        return f"<Database {self.engine.url.render_as_string(hide_password=True)}>"


def init_app(app: Flask) -> None:
    """Attach a :class:`Database` to ``app`` and close each request's session after it."""
    from flask import g

    database = Database(app.config["TANDEM_DATABASE_URL"])
    app.extensions["tandem.database"] = database

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("tandem_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def get_database(app: Flask | None = None) -> Database:
    """The current app's :class:`Database`."""
    from flask import current_app

    return (app or current_app).extensions["tandem.database"]


def get_session() -> Session:
    """The session of the current request or command, opened on first use."""
    from flask import g, has_request_context

    if "tandem_session" not in g:
        session = get_database().sessionmaker()
        if has_request_context():
            _hold_loaded_rows(session)
        g.tandem_session = session
    return g.tandem_session


def _hold_loaded_rows(session: Session) -> None:
    """Keep every row a request loads until the request ends.

    The identity map holds rows weakly: a row that one part of a page read and let go
    (the landing page's member and course) was forgotten, and the next part's
    ``session.get`` of it queried again. A request is short and its rows few, so holding
    them costs little; commands, which may read many, keep the weak map.
    """
    held: list[object] = []  # lives as long as the session's listener, i.e. the session
    event.listen(session, "loaded_as_persistent", lambda _, instance: held.append(instance))
