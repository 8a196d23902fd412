"""A large first load keeps PostgreSQL's planner statistics current (ANALYZE as rows double)."""

from __future__ import annotations

from sqlalchemy import text

from connectors import sync
from records import Database

from .conftest import add_source
from .test_sync_unchanged import ListConnector, person


def test_a_first_load_analyzes_the_tables_it_fills(database: Database, backend: str) -> None:
    source = add_source(database, "rest")
    result = sync(
        database,
        source.tenant_id,
        source.connector_id,
        ListConnector([person(n) for n in range(1200)]),
        phases=("members",),
        batch_size=250,
    )
    assert result.kinds["members"] == [1200, 0]
    if backend != "postgresql":
        return  # SQLite plans from its indexes alone; nothing to keep current
    with database.engine.connect() as connection:
        analyzed = connection.execute(
            text(
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL "
                "AND relname IN ('members', 'identities')"
            )
        ).scalars()
        assert sorted(analyzed) == ["identities", "members"]
