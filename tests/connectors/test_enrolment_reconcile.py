"""A full sync marks ended (never deletes) the enrolments that left the source."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select

from connectors import CourseRecord, EnrolmentRecord, RecordProblem, sync
from members import PersonRecord
from records import Database, Enrolment, SyncRun

from .conftest import add_source, last_run

PEOPLE = {
    n: PersonRecord(source="moodle", external_id=str(n), email=f"p{n}@example.org")
    for n in range(1, 4)
}


class LmsConnector:
    """One course, with whichever of PEOPLE are enrolled."""

    source = "moodle"

    def __init__(self, enrolled: list[int], *, broken: bool = False) -> None:
        self.enrolled, self.broken = enrolled, broken

    def iter_members(self, since: datetime | None = None) -> Iterator[PersonRecord]:
        return iter(PEOPLE.values())

    def iter_courses(self) -> Iterator[CourseRecord | EnrolmentRecord | RecordProblem]:
        yield CourseRecord(source="moodle", external_id="c1", title="Leadership")
        for n in self.enrolled:
            yield EnrolmentRecord(
                source="moodle", course_external_id="c1", person=PEOPLE[n], role="student"
            )
        if self.broken:
            yield RecordProblem("moodle:c2", "course without a name")

    def iter_learning_records(self, since: datetime | None) -> Iterator:
        return iter(())

    def close(self) -> None:
        pass


def statuses(database: Database) -> dict[int, str]:
    with database.transaction() as session:
        rows = session.execute(select(Enrolment.member_id, Enrolment.status)).all()
        return {member_id: status for member_id, status in rows}


def test_full_sync_ends_missing_enrolments_and_a_return_reopens_them(
    database: Database,
) -> None:
    source = add_source(database, "moodle")

    def run(enrolled: list[int], **options: object):
        return sync(
            database,
            source.tenant_id,
            source.connector_id,
            LmsConnector(enrolled, broken=bool(options.pop("broken", False))),
            phases=("members", "courses"),
            batch_size=2,
            **options,  # type: ignore[arg-type]
        )

    first = run([1, 2, 3])
    assert first.full and first.kinds["enrolments"] == [3, 0] and first.ended == 0
    assert set(statuses(database).values()) == {"active"}

    incremental = run([1])
    assert not incremental.full and incremental.ended == 0  # only --full reconciles
    assert set(statuses(database).values()) == {"active"}

    full = run([1], full=True)
    assert full.ended == 2 and "ended 2 enrolments" in full.summary()
    after = statuses(database)
    assert len(after) == 3  # never deleted
    assert sorted(after.values()) == ["active", "ended", "ended"]
    assert last_run(database).message == "ended 2 enrolments no longer in the source"

    again = run([1], full=True)
    assert again.ended == 0  # already ended: not counted twice

    back = run([1, 2, 3], full=True)
    assert back.kinds["enrolments"] == [0, 2] and set(statuses(database).values()) == {"active"}


def test_a_full_run_with_failed_course_rows_ends_nothing(database: Database) -> None:
    source = add_source(database, "moodle")
    sync(database, source.tenant_id, source.connector_id, LmsConnector([1, 2]))
    result = sync(
        database,
        source.tenant_id,
        source.connector_id,
        LmsConnector([1], broken=True),
        full=True,
    )
    assert result.failed == 1 and result.ended == 0
    assert set(statuses(database).values()) == {"active"}
    with database.transaction() as session:
        run = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run.message == "enrolments not reconciled: some course rows failed"
