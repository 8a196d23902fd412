"""Learning records and the batch itself: few statements a batch, the same rows as before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, select

from connectors import LearningFact, sync
from records import Database, LearningRecord, Member

from .conftest import Source, add_source
from .test_sync_unchanged import ListConnector, person


class LearningConnector(ListConnector):
    """A directory whose people also have learning facts (``facts``, in order)."""

    def __init__(self, people: list, facts: list[LearningFact]) -> None:
        super().__init__(people)
        self.facts = facts

    def iter_learning_records(self, since: datetime | None) -> Iterator[LearningFact]:
        return iter(self.facts)


def fact(n: int, key: str, score: float) -> LearningFact:
    return LearningFact(
        source="directory",
        person_external_id=f"d{n}",
        record_key=key,
        kind="grade",
        score=score,
        detail={"final_score": score / 2},
        recorded_at=datetime(2026, 1, n + 1, tzinfo=UTC),
    )


def run(database: Database, source: Source, people: list, facts: list, **options: Any) -> Any:
    """One sync of ``people`` and their ``facts`` into ``source``."""
    connector = LearningConnector(people, facts)
    return sync(database, source.tenant_id, source.connector_id, connector, **options)


class Statements:
    """The statements a database runs while the ``with`` block lasts (``parameters``
    holds each one's parameters, in the same order)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[str] = []
        self.parameters: list[Any] = []

    def record(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(statement)
        self.parameters.append(parameters)

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self.record)
        return self.seen

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self.record)


def stored(database: Database) -> dict[tuple[str, str], tuple]:
    with database.transaction() as session:
        rows = session.execute(
            select(
                Member.member_number,
                LearningRecord.record_key,
                LearningRecord.score,
                LearningRecord.detail,
                LearningRecord.recorded_at,
            ).join(Member, Member.id == LearningRecord.member_id)
        )
        return {(row[0], row[1]): tuple(row[2:]) for row in rows}


def test_a_first_load_of_learning_reads_no_stored_records_per_batch(
    database: Database, backend: str
) -> None:
    # Issue 16 item 12: every learning batch looked for stored rows to compare with,
    # even while the source had none. A first load now asks once.
    source = add_source(database, "rest")
    people = [person(n) for n in range(30)]
    sync(database, source.tenant_id, source.connector_id, ListConnector(people))
    facts = [fact(n, f"course:{k}:grade", float(n + k)) for n in range(30) for k in range(3)]
    with Statements(database.engine) as statements:
        result = run(database, source, people, facts, phases=("learning_records",), batch_size=20)
    assert result.kinds["learning_records"] == [90, 0]
    looked = [s for s in statements if s.lstrip().startswith("SELECT") and "learning_records" in s]
    assert len(looked) == 1, looked  # one probe for the run, not one a batch (5 batches)
    # Each list is one parameter, not one placeholder per person.
    placeholder = "%(" if backend == "postgresql" else "?"
    identities = [s for s in statements if "FROM identities" in s]
    assert identities and all(s.count(placeholder) <= 4 for s in identities), identities
    assert stored(database)[("M-7", "course:2:grade")] == (
        9.0,
        {"final_score": 4.5},
        datetime(2026, 1, 8, tzinfo=UTC),
    )


def test_a_fact_repeated_in_a_later_batch_of_a_first_load_updates_its_row(
    database: Database,
) -> None:
    # A first load skips looking for stored rows; the rows it wrote itself still count.
    source = add_source(database, "rest")
    people = [person(n) for n in range(4)]
    facts = [fact(n, "course:1:grade", 10.0) for n in range(4)] + [fact(2, "course:1:grade", 55.0)]
    result = run(database, source, people, facts, batch_size=2)
    assert result.status == "succeeded", result.summary()
    assert result.kinds["learning_records"] == [4, 1]
    assert stored(database)[("M-2", "course:1:grade")][0] == 55.0


def test_a_re_sync_compares_with_stored_records_and_updates_only_changes(
    database: Database,
) -> None:
    source = add_source(database, "rest")
    people = [person(n) for n in range(6)]
    facts = [fact(n, "course:1:grade", float(n)) for n in range(6)]
    run(database, source, people, facts)
    facts[3] = fact(3, "course:1:grade", 99.0)
    again = run(database, source, people, facts, batch_size=4)
    assert again.kinds["learning_records"] == [0, 1]
    assert stored(database)[("M-3", "course:1:grade")][0] == 99.0
    assert stored(database)[("M-4", "course:1:grade")][0] == 4.0


def test_a_default_batch_holds_a_first_load_of_1500_members(database: Database) -> None:
    # Each batch is a transaction with a dozen statements and their round trips: the
    # default batch was 500 rows (three transactions here), it is 2,000 now.
    source = add_source(database, "rest")
    batches: list[tuple[str, int]] = []
    result = sync(
        database,
        source.tenant_id,
        source.connector_id,
        ListConnector([person(n) for n in range(1500)]),
        progress=lambda phase, done: batches.append((phase, done)),
    )
    assert result.kinds["members"] == [1500, 0]
    assert batches == [("members", 1500)]
