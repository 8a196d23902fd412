"""Alembic environment: runs on the connection or URL that `records.migrate` gives."""

from __future__ import annotations

import os

from alembic import context

from records import Base
from records.base import UTCDateTime
from records.db import make_engine
from records.migrate import is_ours

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Render our UTCDateTime as a plain timestamptz so that migrations never import
    # application code, which may change after the migration is written.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        render_item=_render_item,
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # The job queue's tables are Procrastinate's, created from its schema file.
        include_name=is_ours,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("TANDEM_DATABASE_URL")
    if not url:
        raise SystemExit("set TANDEM_DATABASE_URL to the database to migrate")
    engine = make_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
