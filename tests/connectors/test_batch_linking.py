"""The batched linker agrees with link_member, record for record."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from members import PersonRecord, link_member, link_members
from records import Identity, Member, Tenant, utcnow


def _tenant(session: Session, slug: str) -> int:
    tenant = Tenant(slug=slug, name=slug)
    session.add(tenant)
    session.flush()
    return tenant.id


def _random_records(rng: random.Random, n: int) -> list[PersonRecord]:
    records = []
    for _ in range(n):
        source = rng.choice(["moodle", "canvas", "directory", "lti"])
        external_id = str(rng.randint(1, 12))
        aka = ()
        if source == "lti" and rng.random() < 0.5:
            aka = (("moodle", external_id),)
        number = rng.choice([None, None, f"M-{rng.randint(1, 6)}"])
        email = rng.choice([None, f"p{rng.randint(1, 8)}@x.org", f" P{rng.randint(1, 8)}@X.org"])
        records.append(
            PersonRecord(
                source=source,
                external_id=external_id,
                given_name=rng.choice([None, "Ada", "Bo"]),
                family_name=rng.choice([None, "Lee"]),
                email=email,
                member_number=number,
                also_known_as=aka,
            )
        )
    return records


def _snapshot(session: Session, tenant_id: int) -> tuple[set, list]:
    """Identities grouped by member (ids renumbered by first identity) and member fields."""
    groups: dict[int, set] = {}
    for source, external_id, member_id in session.execute(
        select(Identity.source, Identity.external_id, Identity.member_id).where(
            Identity.tenant_id == tenant_id
        )
    ):
        groups.setdefault(member_id, set()).add((source, external_id))
    members = session.scalars(select(Member).where(Member.tenant_id == tenant_id)).all()
    fields = sorted(
        (
            tuple(sorted(groups.get(m.id, set()))),
            m.given_name,
            m.family_name,
            # Not display_name: link_member builds it from a new member's unflushed
            # (None) names, giving "Ada None"; test_display_name_from_names covers ours.
            m.email,
            m.member_number,
            m.active,
        )
        for m in members
    )
    return {frozenset(g) for g in groups.values()}, fields


@pytest.mark.parametrize("seed", range(12))
def test_batched_linker_agrees_with_link_member(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    one_by_one, batched = _tenant(session, "one"), _tenant(session, "batch")
    for _round in range(3):
        records = _random_records(rng, 25)
        expected = []
        for record in records:
            savepoint = session.begin_nested()
            try:
                result = link_member(session, one_by_one, record)
            except Exception:
                # A member number held by another member: link_member refuses the record.
                savepoint.rollback()
                expected.append(None)
                continue
            savepoint.commit()
            expected.append((result.created, result.updated, result.new_identities))
        got = link_members(session, batched, records)
        assert [
            None if g.problem else (g.created, g.updated, g.new_identities) for g in got
        ] == expected
        session.expire_all()
        assert _snapshot(session, batched) == _snapshot(session, one_by_one)


def test_seen_at_stamps_existing_identities(session: Session) -> None:
    from datetime import UTC, datetime

    tenant = _tenant(session, "t")
    link_members(session, tenant, [PersonRecord(source="moodle", external_id="1")])
    stamp = datetime(2030, 1, 1, tzinfo=UTC)
    link_members(session, tenant, [PersonRecord(source="moodle", external_id="1")], seen_at=stamp)
    session.expire_all()
    assert session.scalars(select(Identity.last_seen_at)).one() == stamp


def test_display_name_from_names(session: Session) -> None:
    tenant = _tenant(session, "t")
    records = [
        PersonRecord(source="csv", external_id="1", given_name="Ada"),
        PersonRecord(source="csv", external_id="2"),
        PersonRecord(source="csv", external_id="2", family_name="Lee"),
    ]
    link_members(session, tenant, records)
    names = session.scalars(select(Member.display_name).order_by(Member.id)).all()
    assert names == ["Ada", "Lee"]


def test_new_members_of_a_batch_go_in_a_few_statements(session: Session) -> None:
    # Issue 16 item 12: RETURNING in parameter order sent one INSERT per new member on
    # SQLite; the ids are now reserved up front and the rows go in together.
    from sqlalchemy import event

    tenant = _tenant(session, "t")
    statements: list[str] = []
    engine = session.get_bind()

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    records = [
        PersonRecord(source="canvas", external_id=str(n), given_name=f"P{n}", email=f"p{n}@x.org")
        for n in range(300)
    ]
    event.listen(engine, "before_cursor_execute", count)
    try:
        links = link_members(session, tenant, records)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert all(link.created for link in links)
    assert len(statements) <= 10, statements[:20]
    session.expire_all()
    stored = dict(
        session.execute(
            select(Identity.external_id, Member.given_name).join(
                Member, Member.id == Identity.member_id
            )
        ).all()
    )
    assert stored == {str(n): f"P{n}" for n in range(300)}
    assert [link.member_id for link in links] == sorted(session.scalars(select(Member.id)))


def test_a_batch_looks_people_up_with_one_parameter_per_list(
    session: Session,
) -> None:
    # Issue 16 item 12: the lookups of a batch (identities, member numbers, emails) sent
    # one placeholder per value, which psycopg parses on the client and SQLAlchemy
    # renders into a new statement each time; each list is now one parameter (an array
    # on PostgreSQL, a JSON list on SQLite).
    from .test_sync_learning import Statements

    tenant = _tenant(session, "t")
    engine = session.get_bind()

    records = [
        PersonRecord(
            source="canvas", external_id=str(n), member_number=f"M{n}", email=f"p{n}@x.org"
        )
        for n in range(300)
    ]
    with Statements(engine) as statements:
        links = link_members(session, tenant, records, seen_at=utcnow())
        links = link_members(session, tenant, records, seen_at=utcnow())
    assert not any(link.created for link in links)
    lookups = [s for s in statements if s.lstrip().startswith(("SELECT", "UPDATE"))]
    assert lookups
    placeholder = "%(" if engine.dialect.name == "postgresql" else "?"
    assert all(s.count(placeholder) <= 4 for s in lookups), lookups


def test_member_lookups_search_an_index_per_value_not_the_whole_tenant(
    session: Session,
) -> None:
    # Issue 16 item 12: ORDER BY id made SQLite (no statistics) walk every member of the
    # tenant in id order for each batch's member-number and email lookups; the rows are
    # now sorted in Python and each value is one index search.
    from .test_sync_learning import Statements

    tenant = _tenant(session, "t")
    link_members(
        session,
        tenant,
        [PersonRecord(source="a", external_id=str(n), member_number=f"M{n}") for n in range(50)],
    )
    engine = session.get_bind()
    records = [
        PersonRecord(source="b", external_id=str(n), member_number=f"M{n}", email=f"p{n}@x.org")
        for n in range(40, 60)
    ]
    statements = Statements(engine)
    with statements:
        links = link_members(session, tenant, records)
    captured = list(zip(statements.seen, statements.parameters, strict=True))
    assert sum(not link.created for link in links) == 10
    lookups = [
        (s, p) for s, p in captured if s.lstrip().startswith("SELECT") and "FROM members" in s
    ]
    assert lookups and not any("ORDER BY" in s for s, _ in lookups)
    if engine.dialect.name == "sqlite":
        connection = session.connection()
        for statement, parameters in lookups:
            plan = [
                row[-1]
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            ]
            assert not any(step.endswith("ix_members_tenant_id (tenant_id=?)") for step in plan), (
                plan
            )
