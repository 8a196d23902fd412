"""Migrations: an empty database reaches head, twice is harmless, models and migrations agree."""

from __future__ import annotations

from sqlalchemy import inspect

from records import Base, make_engine, migrate


def test_upgrade_empty_database_to_head_creates_every_table(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    engine.dispose()


def test_upgrade_twice_is_a_no_op(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = make_engine(database_url)
    assert migrate.schema_differences(engine) == []
    engine.dispose()


def test_older_database_is_brought_to_head(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, "0001")
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    # Check constraints escape autogenerate's comparison: look at them directly.
    checks = {c["name"]: c["sqltext"] for c in inspect(engine).get_check_constraints("matches")}
    assert "'draft'" in checks["ck_matches_status"]
    assert "'declined'" in checks["ck_matches_mentor_response"]
    engine.dispose()


def test_down_and_up_again_keeps_every_row(empty_database_url: str) -> None:
    """SQLite rebuilds a table to alter it; that must never cascade into its children."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from programmes import seed_demo
    from records import Agreement, CheckIn, Match, Participant

    engine = make_engine(empty_database_url)
    migrate.upgrade(engine)
    with Session(engine) as session, session.begin():
        seed_demo(session)  # includes a running previous cohort with check-ins

    def counts() -> dict[str, int]:
        with engine.connect() as connection:
            return {
                model.__tablename__: connection.scalar(select(func.count()).select_from(model))
                for model in (Participant, Match, CheckIn, Agreement)
            }

    before = counts()
    assert before["matches"] > 0 and before["checkins"] > 0
    migrate.downgrade(engine, "0001")
    assert counts() == before
    migrate.upgrade(engine)
    assert counts() == before
    engine.dispose()


def test_email_linking_index_exists(database_url: str) -> None:
    # Expression indexes escape the autogenerate comparison on SQLite: look directly.
    from sqlalchemy import text

    engine = make_engine(database_url)
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE tablename = 'members'"
    )
    with engine.connect() as connection:
        names = set(connection.execute(text(query)).scalars())
    assert "ix_members_tenant_lower_email" in names
    engine.dispose()
