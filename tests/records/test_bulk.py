"""records.bulk: the sync's fast inserts keep the ORM's defaults, types, errors and ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import IntegrityError, OperationalError

from records import Database, Identity, Member, Tenant, utcnow
from records.bulk import allocate_ids, insert_rows


def _tenant(database: Database) -> int:
    with database.transaction() as session:
        tenant = Tenant(slug="bulk", name="Bulk")
        session.add(tenant)
        session.flush()
        return tenant.id


def test_rows_take_the_column_defaults_and_types(database: Database) -> None:
    tenant_id = _tenant(database)
    paris = timezone(timedelta(hours=1))
    created = datetime(2026, 3, 1, 13, 30, tzinfo=paris)
    with database.transaction() as session:
        ids = allocate_ids(session, Member, 2)
        insert_rows(
            session,
            Member,
            [
                # Left out or None: the column's default, as the ORM's bulk insert does.
                {"id": ids[0], "tenant_id": tenant_id, "display_name": "Ada", "active": None},
                {
                    "id": ids[1],
                    "tenant_id": tenant_id,
                    "display_name": "Bo",
                    "profile": {"pronouns": "they"},
                    "created_at": created,
                },
            ],
        )
    with database.transaction() as session:
        ada, bo = session.scalars(select(Member).order_by(Member.id)).all()
    assert [ada.id, bo.id] == ids and ids[1] == ids[0] + 1
    assert (ada.active, ada.profile, ada.given_name) == (True, {}, "")
    assert ada.created_at is not None and ada.created_at.tzinfo is not None
    assert bo.profile == {"pronouns": "they"}
    assert bo.created_at == created and bo.created_at.utcoffset() == timedelta(0)


def test_a_naive_time_is_refused_as_the_orm_refuses_it(database: Database) -> None:
    tenant_id = _tenant(database)
    with pytest.raises(ValueError, match="naive datetime"), database.transaction() as session:
        insert_rows(
            session,
            Member,
            [{"tenant_id": tenant_id, "display_name": "Ada", "created_at": datetime(2026, 3, 1)}],
        )
    with database.transaction() as session:
        assert session.scalars(select(Member)).all() == []


def test_a_duplicate_is_an_integrity_error_and_nothing_is_written(database: Database) -> None:
    tenant_id = _tenant(database)
    with database.transaction() as session:
        (member_id,) = allocate_ids(session, Member, 1)
        insert_rows(session, Member, [{"id": member_id, "tenant_id": tenant_id}])
    row = {"tenant_id": tenant_id, "member_id": member_id, "source": "canvas"}
    with pytest.raises(IntegrityError), database.transaction() as session:
        insert_rows(
            session,
            Identity,
            [{**row, "external_id": "1"}, {**row, "external_id": "2"}, {**row, "external_id": "1"}],
        )
    with database.transaction() as session:
        assert session.scalars(select(Identity)).all() == []
    # The connection is usable again after the failed COPY / executemany.
    with database.transaction() as session:
        insert_rows(session, Identity, [{**row, "external_id": "1", "created_at": utcnow()}])
        assert session.scalar(select(Identity.external_id)) == "1"


def test_reserved_ids_are_never_handed_to_another_writer(
    database: Database, database_url: str, backend: str
) -> None:
    tenant_id = _tenant(database)
    with database.transaction() as session:
        mine = allocate_ids(session, Member, 3)
        other = create_engine(
            database_url, connect_args={"timeout": 0.2} if backend == "sqlite" else {}
        )
        try:
            if backend == "sqlite":
                # SQLite: the reservation holds the write lock, so nobody inserts meanwhile.
                with pytest.raises(OperationalError, match="locked"), other.begin() as c:
                    c.execute(Member.__table__.insert().values(tenant_id=tenant_id))
            else:
                # PostgreSQL: the sequence gave them out, so a concurrent insert gets another.
                with other.begin() as c:
                    theirs = c.execute(
                        Member.__table__.insert()
                        .values(tenant_id=tenant_id, created_at=datetime.now(UTC))
                        .returning(Member.id)
                    ).scalar_one()
                assert theirs not in mine
        finally:
            other.dispose()
        insert_rows(session, Member, [{"id": i, "tenant_id": tenant_id} for i in mine])
    with database.transaction() as session:
        assert set(mine) <= set(session.scalars(select(Member.id)))


def test_tuple_rows_with_names_take_the_same_defaults_and_types(database: Database) -> None:
    # The sync's hot path hands tuples in a fixed column order, not a dict per row.
    tenant_id = _tenant(database)
    paris = timezone(timedelta(hours=1))
    created = datetime(2026, 3, 1, 13, 30, tzinfo=paris)
    names = ("tenant_id", "display_name", "active", "profile", "created_at")
    with database.transaction() as session:
        insert_rows(
            session,
            Member,
            [(tenant_id, "Ada", None, None, None), (tenant_id, "Bo", False, {"a": 1}, created)],
            names=names,
        )
    with database.transaction() as session:
        ada, bo = session.scalars(select(Member).order_by(Member.id)).all()
    assert (ada.display_name, ada.active, ada.profile) == ("Ada", True, {})
    assert ada.created_at is not None and ada.created_at.tzinfo is not None
    assert (bo.display_name, bo.active, bo.profile, bo.created_at) == (
        "Bo",
        False,
        {"a": 1},
        created,
    )
    with pytest.raises(ValueError, match="naive datetime"), database.transaction() as session:
        insert_rows(
            session, Member, [(tenant_id, "Cy", True, {}, datetime(2026, 3, 1))], names=names
        )
    with (
        pytest.raises(ValueError, match="4 values for 5 columns"),
        database.transaction() as session,
    ):
        insert_rows(session, Member, [(tenant_id, "Cy", True, {})], names=names)
    with database.transaction() as session:
        assert session.scalars(select(Member.display_name).order_by(Member.id)).all() == [
            "Ada",
            "Bo",
        ]
