"""Re-syncs skip linking records that change nothing, and still count, stamp and reconcile."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from connectors import sync
from connectors.sync import PROFILE_FIELDS
from members import PersonRecord
from members.linking import _PROFILE_FIELDS
from records import Database, Identity

from .conftest import add_source, members


class ListConnector:
    """A directory that hands back a fixed list of people."""

    source = "directory"

    def __init__(self, people: list[PersonRecord]) -> None:
        self.people = people

    def iter_members(self, since: datetime | None = None) -> Iterator[PersonRecord]:
        return iter(self.people)

    def iter_courses(self) -> Iterator:
        return iter(())

    def iter_learning_records(self, since: datetime | None) -> Iterator:
        return iter(())

    def close(self) -> None:
        pass


def person(n: int, **changes: object) -> PersonRecord:
    base = PersonRecord(
        source="directory",
        external_id=f"d{n}",
        given_name=f"Given{n}",
        family_name=f"Family{n}",
        email=f"p{n}@example.org",
        member_number=f"M-{n}",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_profile_fields_match_the_linking_rules() -> None:
    assert set(PROFILE_FIELDS) == set(_PROFILE_FIELDS)


def test_unchanged_records_are_skipped_changed_ones_updated(database: Database) -> None:
    source = add_source(database, "rest")
    people = [person(n) for n in range(5)]

    def run(batch: list[PersonRecord], **options: object):
        return sync(
            database,
            source.tenant_id,
            source.connector_id,
            ListConnector(batch),
            phases=("members",),
            batch_size=2,
            **options,  # type: ignore[arg-type]
        )

    first = run(people)
    assert first.kinds["members"] == [5, 0]

    again = run([*people[:4], person(4, email=" New4@example.org ")], full=True)
    assert again.kinds["members"] == [0, 1] and again.deactivated == 0
    assert "New4@example.org" in {m.email for m in members(database).values()}
    with database.transaction() as session:
        stamps = session.scalars(select(Identity.last_seen_at)).all()
    # Every identity was stamped by the full run, skipped or linked: none looks missing.
    assert len(set(stamps)) == 1

    # Whitespace around an email and empty fields change nothing, as link_member says.
    same = run(
        [replace(people[0], email=" p0@example.org", given_name=None), *people[1:3]],
        full=False,
    )
    assert same.added == same.updated == 0

    gone = run(people[:3], full=True)
    assert gone.deactivated == 2  # d3 and d4
    # A deactivated member is never "unchanged": coming back reactivates them.
    back = run(people, full=True)
    assert back.kinds["members"] == [0, 2] and back.deactivated == 0
    assert all(m.active for m in members(database).values())
