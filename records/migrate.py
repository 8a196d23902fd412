"""Schema migrations: bring any Tandem database to the newest revision."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from .base import Base
from .errors import RecordsError

MIGRATIONS = Path(__file__).with_name("migrations")


class MigrationError(RecordsError):
    """A migration would have left the database inconsistent; it was rolled back."""


# The job queue's tables (records/migrations/versions/0014_job_queue.py).
QUEUE_TABLE_PREFIX = "procrastinate_"


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration pointing at Tandem's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision``; a no-op when already there.

    The whole upgrade runs in one transaction (PostgreSQL has transactional DDL), so a
    failed migration leaves the schema as it was.
    """
    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database behind ``engine`` down to ``revision``."""
    _run(engine, lambda config: command.downgrade(config, revision))


def _run(engine: Engine, step: Callable[[Config], None]) -> None:
    config = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # SQLite alters a table by copying it into a new one and dropping the old.
            # With foreign keys enforced, that drop cascades: every check-in of a rebuilt
            # `matches` would go. The pragma only takes effect outside a transaction, so
            # it is set first and the keys are checked by hand before commit.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                step(config)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise MigrationError(
                            f"the migration left {len(broken)} row(s) pointing at missing "
                            f"rows (first: table {broken[0][0]}); nothing was changed"
                        )
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def is_ours(name: str | None, type_: str, _parent_names: Any = None) -> bool:
    """Whether autogenerate compares this object: not the job queue's (Procrastinate's
    tables come from its own schema file, revision 0014, not from our models)."""
    return not (type_ == "table" and (name or "").startswith(QUEUE_TABLE_PREFIX))


def schema_differences(engine: Engine) -> list[Any]:
    """What autogenerate finds between the models and the database (empty when in step)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": is_ours}
        )
        return compare_metadata(context, Base.metadata)
