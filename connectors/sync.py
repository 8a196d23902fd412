"""The one sync path: write what a connector yields, in batches, incrementally and safely.

Connectors only read. This module alone writes members, identities, courses, enrolments
and learning records, and it owns its transactions (a command-level job, like a view
owning its request's):

* each batch is one transaction: a run that dies leaves every batch fully written or
  not at all;
* the connector's cursor moves only when a run succeeds, so a failed run is simply
  resumed by the next (re-writing a batch that did land changes nothing: rows are
  compared before they are written);
* a row that fails validation is reported with its source id and reason and the rest
  go on (``strict`` stops instead);
* ``dry_run`` does everything inside one transaction that is rolled back, so its counts
  are exact and nothing is written but the :class:`~records.SyncRun`;
* a full run stamps every identity it sees and then deactivates (never deletes) the
  members of this source it did not see, and marks ``ended`` (never deletes) the
  enrolments of this source it did not see.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from members import PersonRecord, find_members, link_members
from records import (
    ConnectorConfig,
    Course,
    Database,
    Enrolment,
    Identity,
    LearningRecord,
    Member,
    SyncRun,
    utcnow,
)
from records.bulk import insert_rows, one_of

from .base import Connector, CourseRecord, EnrolmentRecord, LearningFact, RecordProblem
from .errors import ConnectorError, InvalidRecord

# Rows a batch (one transaction) writes: each batch pays a dozen statements, a commit
# and their round trips whatever its size, and 2,000 rows of a Canvas sync hold a few
# MiB (benchmarks/sync.py prints the peak).
DEFAULT_BATCH_SIZE = 2000
DEFAULT_LOOKBACK = timedelta(minutes=10)
# A SyncRun keeps this many error entries; the count covers them all.
MAX_STORED_ERRORS = 500

# The profile fields a PersonRecord carries onto its member (all but the keys and flags).
PROFILE_FIELDS = tuple(
    f.name
    for f in fields(PersonRecord)
    if f.name not in ("source", "external_id", "active", "also_known_as")
)
# The status of an enrolment that a full run no longer found in its source.
ENDED = "ended"
# IN lists are chunked: SQLite allows 32,766 bound parameters, and huge lists plan badly.
_IN_CHUNK = 900

# A learning record's values as the sync compares and writes them, in this order.
LEARNING_FIELDS = (
    "course_id",
    "kind",
    "completed",
    "score",
    "grade",
    "progress",
    "detail",
    "recorded_at",
)
# The columns of a new learning record's row tuple.
LEARNING_ROW = (
    "tenant_id",
    "source",
    "created_at",
    "updated_at",
    "member_id",
    "record_key",
    *LEARNING_FIELDS,
)

T = TypeVar("T")
Progress = Callable[[str, int], None]


@dataclass
class SyncResult:
    """What a run did. ``kinds`` maps members/courses/enrolments/learning_records to
    ``[added, updated]``."""

    run_id: int | None = None
    status: str = "running"
    full: bool = False
    dry_run: bool = False
    added: int = 0
    updated: int = 0
    deactivated: int = 0
    ended: int = 0
    failed: int = 0
    seconds: float = 0.0
    errors: list[dict[str, str]] = field(default_factory=list)
    kinds: dict[str, list[int]] = field(
        default_factory=lambda: {
            "members": [0, 0],
            "courses": [0, 0],
            "enrolments": [0, 0],
            "learning_records": [0, 0],
        }
    )
    cursor_after: dict[str, Any] | None = None
    message: str | None = None

    def count(self, kind: str, added: int = 0, updated: int = 0) -> None:
        self.kinds[kind][0] += added
        self.kinds[kind][1] += updated
        self.added += added
        self.updated += updated

    def problem(self, source_id: str, reason: str, *, strict: bool) -> None:
        self.failed += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append({"source_id": source_id, "reason": reason})
        if strict:
            raise InvalidRecord(f"record {source_id}: {reason} (strict mode stops here)")

    def summary(self) -> str:
        """One line for an operator."""
        parts = ", ".join(
            f"{kind.replace('_', ' ')} {a}/{u}" for kind, (a, u) in self.kinds.items()
        )
        prefix = "dry run: would have " if self.dry_run else ""
        ended = f"ended {self.ended} enrolments, " if self.ended else ""
        return (
            f"{prefix}added {self.added}, updated {self.updated}, deactivated "
            f"{self.deactivated}, {ended}failed {self.failed} in {self.seconds:.1f} s "
            f"(added/updated: {parts})"
        )


class SyncFailed(ConnectorError):
    """A run stopped; ``result`` holds what it had done (its batches stay written)."""

    def __init__(self, message: str, result: SyncResult) -> None:
        super().__init__(message)
        self.result = result


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _by_nulls(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` ordered so that rows with the same empty (``None``) fields are together.

    The ORM's bulk UPDATE leaves ``None`` keys out and sends one executemany per
    run of rows with the same keys: a batch alternating grade, progress and completion
    facts (each with other empty fields) went out one statement per row.
    """
    return sorted(rows, key=lambda row: tuple(value is None for value in row.values()))


def _same(person: PersonRecord, row: Any) -> bool:
    """Whether linking ``person`` would leave the stored member ``row`` as it is
    (:func:`members.apply_profile`'s rule: empty fields of the record change nothing)."""
    for name in PROFILE_FIELDS:
        value = getattr(person, name)
        if value in (None, ""):
            continue
        if name == "email":
            value = value.strip()
        if getattr(row, name) != value:
            return False
    return True


def parse_cursor_time(value: Any) -> datetime | None:
    """The ``since`` stored in a cursor, as an aware datetime."""
    if not value:
        return None
    return datetime.fromisoformat(str(value))


class _Writer:
    """Writes one run's batches; every method takes the batch's session."""

    def __init__(
        self,
        tenant_id: int,
        source: str,
        result: SyncResult,
        *,
        strict: bool,
        match_email: bool,
        seen_at: datetime | None,
    ) -> None:
        self.tenant_id, self.source, self.result = tenant_id, source, result
        self.strict, self.match_email, self.seen_at = strict, match_email, seen_at
        # A full run remembers the enrolments it saw (ids of rows that existed before
        # it; rows it creates are recognised by created_at) to end the others.
        self.seen_enrolments: set[int] = set()
        self.source_known: bool | None = None  # whether the source has any identity yet
        self.linked_any = False  # whether this run linked anyone (the source is known now)
        # Whether the source had learning records when the run began; while it had none,
        # the (member, key) pairs this run inserted are all that can already exist.
        self.learning_known: bool | None = None
        self.learning_written: set[tuple[int, str]] = set()

    # -- members ---------------------------------------------------------------

    def members(self, session: Session, items: list[PersonRecord | RecordProblem]) -> None:
        people: list[PersonRecord] = []
        for item in items:
            if isinstance(item, RecordProblem):
                self.result.problem(item.source_id, item.reason, strict=self.strict)
            else:
                people.append(item)
        active = [p for p in people if p.active]
        same = self.unchanged(session, active)
        self.link(session, [p for p in active if p.external_id not in same], count=True)
        leaving = [p for p in people if not p.active]
        if leaving:
            found = find_members(session, self.tenant_id, leaving, match_email=self.match_email)
            self.deactivate(session, [m for m in found if m is not None])

    def link(self, session: Session, people: list[PersonRecord], *, count: bool) -> dict[str, int]:
        """Link people; return external id -> member id for those that linked."""
        if not people:
            return {}
        links = link_members(
            session, self.tenant_id, people, match_email=self.match_email, seen_at=self.seen_at
        )
        linked: dict[str, int] = {}
        for person, link in zip(people, links, strict=True):
            if link.problem or link.member_id is None:
                self.result.problem(
                    f"{person.source}:{person.external_id}",
                    link.problem or "not linked",
                    strict=self.strict,
                )
                continue
            linked[person.external_id] = link.member_id
            self.linked_any = True
            if count:
                self.result.count("members", int(link.created), int(link.updated))
        return linked

    def unchanged(self, session: Session, people: list[PersonRecord]) -> dict[str, int]:
        """The records that would change nothing (external id -> member id): skip linking them.

        A re-sync mostly hands back what is stored. Linking such a record loads its
        member, compares and writes nothing, at several queries a batch; one join
        answers the same question. Only plain cases qualify (one identity, already held,
        on an active member whose non-empty fields all match, the id once in the
        batch); the rest go through ``link_members`` as before. A full run still stamps
        their identities, since the reconcile relies on the stamp.
        """
        if self.source_known is None:
            # Before the source's first identity (an initial load) nothing can be
            # unchanged: skip the query for the whole run.
            self.source_known = (
                session.scalar(
                    select(Identity.id)
                    .where(Identity.tenant_id == self.tenant_id, Identity.source == self.source)
                    .limit(1)
                )
                is not None
            )
        if not self.source_known:
            return {}
        repeated = Counter(p.external_id for p in people)
        simple = [
            p
            for p in people
            if p.source == self.source and not p.also_known_as and repeated[p.external_id] == 1
        ]
        if not simple:
            return {}
        stored: dict[str, Any] = {}
        ids = [p.external_id for p in simple]
        for start in range(0, len(ids), _IN_CHUNK):
            rows = session.execute(
                select(
                    Identity.id.label("identity_id"),
                    Identity.external_id,
                    Identity.member_id,
                    Member.active,
                    *(getattr(Member, name) for name in PROFILE_FIELDS),
                )
                .join(
                    Member,
                    (Member.tenant_id == Identity.tenant_id) & (Member.id == Identity.member_id),
                )
                .where(
                    Identity.tenant_id == self.tenant_id,
                    Identity.source == self.source,
                    one_of(session, Identity.external_id, ids[start : start + _IN_CHUNK]),
                )
            )
            stored.update((row.external_id, row) for row in rows)
        same: dict[str, Any] = {}
        for person in simple:
            row = stored.get(person.external_id)
            if row is not None and row.active and row.display_name and _same(person, row):
                same[person.external_id] = row
        if self.seen_at is not None and same:
            seen = sorted(row.identity_id for row in same.values())
            for start in range(0, len(seen), _IN_CHUNK):
                session.execute(
                    update(Identity)
                    .where(one_of(session, Identity.id, seen[start : start + _IN_CHUNK]))
                    .values(last_seen_at=self.seen_at)
                    .execution_options(synchronize_session=False)
                )
        return {external_id: row.member_id for external_id, row in same.items()}

    def member_ids(self, session: Session, external_ids: Iterable[str]) -> dict[str, int]:
        """External id -> member id of this source's identities among ``external_ids``."""
        ids = sorted(external_ids)
        found: dict[str, int] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            found.update(
                session.execute(
                    select(Identity.external_id, Identity.member_id).where(
                        Identity.tenant_id == self.tenant_id,
                        Identity.source == self.source,
                        one_of(session, Identity.external_id, ids[start : start + _IN_CHUNK]),
                    )
                ).all()
            )
        return found

    def deactivate(self, session: Session, member_ids: list[int]) -> None:
        if not member_ids:
            return
        done = session.execute(
            update(Member)
            .where(
                Member.tenant_id == self.tenant_id,
                Member.id.in_(member_ids),
                Member.active.is_(True),
            )
            .values(active=False, deactivated_at=utcnow(), updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        self.result.deactivated += done.rowcount or 0

    def reconcile(self, session: Session, started: datetime, skipped: Iterable[str] = ()) -> None:
        """Deactivate the members of this source that a full run did not see.

        ``skipped``: external ids the connector saw and left out on purpose (system
        accounts). Their members count as seen: someone who launches from the LMS is
        never deactivated because the connector does not make them a member.
        """
        of_source = select(Identity.member_id).where(
            Identity.tenant_id == self.tenant_id, Identity.source == self.source
        )
        seen = of_source.where(Identity.last_seen_at >= started)
        skipped = sorted(set(skipped))
        if skipped:
            seen = seen.union(of_source.where(one_of(session, Identity.external_id, skipped)))
        missing = session.scalars(
            select(Member.id).where(
                Member.tenant_id == self.tenant_id,
                Member.active.is_(True),
                Member.id.in_(of_source),
                Member.id.not_in(seen),
            )
        ).all()
        for start in range(0, len(missing), 900):
            self.deactivate(session, list(missing[start : start + 900]))

    # -- courses and enrolments -------------------------------------------------

    def courses(
        self, session: Session, items: list[CourseRecord | EnrolmentRecord | RecordProblem]
    ) -> None:
        courses = {i.external_id: i for i in items if isinstance(i, CourseRecord)}
        enrolments = [i for i in items if isinstance(i, EnrolmentRecord)]
        for item in items:
            if isinstance(item, RecordProblem):
                self.result.problem(item.source_id, item.reason, strict=self.strict)
        wanted = set(courses) | {e.course_external_id for e in enrolments}
        existing = {
            row.external_id: row
            for row in session.execute(
                select(
                    Course.id, Course.external_id, Course.title, Course.short_name, Course.active
                ).where(
                    Course.tenant_id == self.tenant_id,
                    Course.source == self.source,
                    Course.external_id.in_(sorted(wanted)),
                )
            )
        }
        ids = {key: row.id for key, row in existing.items()}
        new = [c for key, c in courses.items() if key not in existing]
        if new:
            now = utcnow()
            rows = session.execute(
                insert(Course).returning(
                    Course.id, Course.external_id, sort_by_parameter_order=True
                ),
                [
                    {
                        "tenant_id": self.tenant_id,
                        "source": self.source,
                        "external_id": c.external_id,
                        "title": c.title,
                        "short_name": c.short_name,
                        "active": c.active,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for c in new
                ],
            )
            ids.update({external_id: course_id for course_id, external_id in rows})
        changed = [
            {
                "id": row.id,
                "title": courses[key].title,
                "short_name": courses[key].short_name,
                "active": courses[key].active,
                "updated_at": utcnow(),
            }
            for key, row in existing.items()
            if key in courses
            and (row.title, row.short_name, row.active)
            != (courses[key].title, courses[key].short_name, courses[key].active)
        ]
        if changed:
            session.execute(update(Course), _by_nulls(changed))
        self.result.count("courses", len(new), len(changed))
        if enrolments:
            self.enrolments(session, enrolments, ids)

    def enrolments(
        self, session: Session, enrolments: list[EnrolmentRecord], course_ids: dict[str, int]
    ) -> None:
        people = [p for p in {e.person.external_id: e.person for e in enrolments}.values()]
        active = [p for p in people if p.active]
        # Most enrolled people were linked by the members phase: one join finds them.
        if self.linked_any:
            self.source_known = True
        members = self.unchanged(session, active)
        members.update(
            self.link(session, [p for p in active if p.external_id not in members], count=False)
        )
        wanted: dict[tuple[int, int, str], EnrolmentRecord] = {}
        for enrolment in enrolments:
            member_id = members.get(enrolment.person.external_id)
            course_id = course_ids.get(enrolment.course_external_id)
            if course_id is None:
                self.result.problem(
                    f"{self.source}:{enrolment.person.external_id}",
                    f"enrolment in unknown course {enrolment.course_external_id}",
                    strict=self.strict,
                )
                continue
            if member_id is not None:
                wanted[(member_id, course_id, enrolment.role)] = enrolment
        if not wanted:
            return
        existing = {
            (row.member_id, row.course_id, row.role): row
            for row in session.execute(
                select(
                    Enrolment.id,
                    Enrolment.member_id,
                    Enrolment.course_id,
                    Enrolment.role,
                    Enrolment.status,
                    Enrolment.last_access_at,
                ).where(
                    Enrolment.tenant_id == self.tenant_id,
                    one_of(session, Enrolment.course_id, sorted({k[1] for k in wanted})),
                    one_of(session, Enrolment.member_id, sorted({k[0] for k in wanted})),
                )
            )
        }
        now = utcnow()
        new = [
            {
                "tenant_id": self.tenant_id,
                "member_id": key[0],
                "course_id": key[1],
                "role": key[2],
                "status": e.status,
                "source": self.source,
                "last_access_at": e.last_access_at,
                "created_at": now,
                "updated_at": now,
            }
            for key, e in wanted.items()
            if key not in existing
        ]
        changed = [
            {
                "id": existing[key].id,
                "status": e.status,
                "last_access_at": e.last_access_at,
                "updated_at": now,
            }
            for key, e in wanted.items()
            if key in existing
            and (existing[key].status, existing[key].last_access_at) != (e.status, e.last_access_at)
        ]
        if self.seen_at is not None:
            self.seen_enrolments.update(existing[key].id for key in wanted if key in existing)
        if new:
            insert_rows(session, Enrolment, new)
        if changed:
            session.execute(update(Enrolment), _by_nulls(changed))
        self.result.count("enrolments", len(new), len(changed))

    def end_enrolments(self, session: Session, started: datetime) -> None:
        """Mark ended (never delete) this source's enrolments a full run did not see.

        Ended rather than deleted: a programme may have matched on them, and the
        member's history should say they were once on the course. One that comes back
        takes the source's status again.
        """
        candidates = session.scalars(
            select(Enrolment.id).where(
                Enrolment.tenant_id == self.tenant_id,
                Enrolment.source == self.source,
                Enrolment.status != ENDED,
                Enrolment.created_at < started,
            )
        ).all()
        missing = sorted(set(candidates) - self.seen_enrolments)
        now = utcnow()
        for start in range(0, len(missing), _IN_CHUNK):
            done = session.execute(
                update(Enrolment)
                .where(Enrolment.id.in_(missing[start : start + _IN_CHUNK]))
                .values(status=ENDED, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            self.result.ended += done.rowcount or 0
        if self.result.ended:
            # SyncRun has no column for it; its message keeps the count for operators.
            self.result.message = f"ended {self.result.ended} enrolments no longer in the source"

    # -- learning records -------------------------------------------------------

    def learning(self, session: Session, items: list[LearningFact | RecordProblem]) -> None:
        facts: list[LearningFact] = []
        for item in items:
            if isinstance(item, RecordProblem):
                self.result.problem(item.source_id, item.reason, strict=self.strict)
            else:
                facts.append(item)
        if not facts:
            return
        members = self.member_ids(session, {f.person_external_id for f in facts})
        course_keys = sorted({f.course_external_id for f in facts if f.course_external_id})
        courses = dict(
            session.execute(
                select(Course.external_id, Course.id).where(
                    Course.tenant_id == self.tenant_id,
                    Course.source == self.source,
                    one_of(session, Course.external_id, course_keys),
                )
            ).all()
        )
        # One tuple of LEARNING_FIELDS per (member, key): compared with the stored row
        # and written as it is, without a dict per fact.
        wanted: dict[tuple[int, str], tuple[Any, ...]] = {}
        for fact in facts:
            member_id = members.get(fact.person_external_id)
            if member_id is None:
                self.result.problem(
                    f"{self.source}:{fact.person_external_id}",
                    f"learning record {fact.record_key} for a person not synced as a member",
                    strict=self.strict,
                )
                continue
            wanted[(member_id, fact.record_key)] = (
                courses.get(fact.course_external_id or ""),
                fact.kind,
                fact.completed,
                fact.score,
                fact.grade,
                fact.progress,
                fact.detail,
                fact.recorded_at,
            )
        if not wanted:
            return
        if self.learning_known is None:
            self.learning_known = (
                session.scalar(
                    select(LearningRecord.id)
                    .where(
                        LearningRecord.tenant_id == self.tenant_id,
                        LearningRecord.source == self.source,
                    )
                    .limit(1)
                )
                is not None
            )
        existing: dict[tuple[int, str], Any] = {}
        if self.learning_known or not self.learning_written.isdisjoint(wanted):
            existing = {
                (row[1], row[2]): row
                for row in session.execute(
                    select(
                        LearningRecord.id,
                        LearningRecord.member_id,
                        LearningRecord.record_key,
                        *(getattr(LearningRecord, name) for name in LEARNING_FIELDS),
                    ).where(
                        LearningRecord.tenant_id == self.tenant_id,
                        LearningRecord.source == self.source,
                        one_of(session, LearningRecord.member_id, sorted({k[0] for k in wanted})),
                        one_of(session, LearningRecord.record_key, sorted({k[1] for k in wanted})),
                    )
                )
            }
        now = utcnow()
        head = (self.tenant_id, self.source, now, now)
        new, changed = [], []
        for key, values in wanted.items():
            row = existing.get(key)
            if row is None:
                new.append((*head, *key, *values))
            elif tuple(row[3:]) != values:
                fields = dict(zip(LEARNING_FIELDS, values, strict=True))
                changed.append({"id": row.id, "updated_at": now, **fields})
        if new:
            insert_rows(session, LearningRecord, new, names=LEARNING_ROW)
            if not self.learning_known:
                self.learning_written.update(wanted.keys() - existing.keys())
        if changed:
            session.execute(update(LearningRecord), _by_nulls(changed))
        self.result.count("learning_records", len(new), len(changed))


def sync(
    database: Database,
    tenant_id: int,
    connector_id: int,
    connector: Connector,
    *,
    full: bool = False,
    dry_run: bool = False,
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    match_email: bool = True,
    lookback: timedelta | None = None,
    phases: tuple[str, ...] = ("members", "courses", "learning_records"),
    progress: Progress | None = None,
) -> SyncResult:
    """Run one sync of ``connector`` into the tenant, recording a :class:`SyncRun`.

    Args:
        database: the sync opens its own transactions, one per batch.
        connector_id: the :class:`ConnectorConfig` whose cursor this run reads and moves.
        full: ignore the cursor, fetch everything, deactivate members not seen.
        dry_run: count only; nothing is written but the SyncRun.
        strict: stop at the first invalid row instead of reporting it and going on.
        lookback: how far before the cursor to ask from (clock skew, slow commits on
            the source); default: the connector's ``lookback`` or ten minutes.
        phases: which streams to sync (a directory has only members).

    Returns:
        The :class:`SyncResult`; ``status`` is ``succeeded`` or ``partial`` (rows failed).

    Raises:
        SyncFailed: the source failed after retries, a row failed in strict mode, or the
            database refused a batch; batches written before stay written, the cursor
            stays where it was.
    """
    clock = time.perf_counter()
    started = utcnow()
    with database.transaction() as session:
        config = session.get(ConnectorConfig, connector_id)
        if config is None or config.tenant_id != tenant_id:
            raise ConnectorError(f"no connector {connector_id} in tenant {tenant_id}")
        cursor_before = dict(config.cursor or {})
        run = SyncRun(
            tenant_id=tenant_id,
            connector_id=connector_id,
            full=full,
            dry_run=dry_run,
            started_at=started,
            cursor_before=cursor_before,
        )
        session.add(run)
        session.flush()
        run_id = run.id
    since = None if full else parse_cursor_time(cursor_before.get("since"))
    full = full or since is None
    if since is not None:
        since -= (
            lookback if lookback is not None else getattr(connector, "lookback", DEFAULT_LOOKBACK)
        )
    result = SyncResult(run_id=run_id, full=full, dry_run=dry_run)
    writer = _Writer(
        tenant_id,
        connector.source,
        result,
        strict=strict,
        match_email=match_email,
        seen_at=started if full else None,
    )
    dry_session = database.sessionmaker() if dry_run else None

    @contextmanager
    def batch() -> Iterator[Session]:
        if dry_session is not None:
            yield dry_session
        else:
            with database.transaction() as session:
                yield session

    planner = _PlannerStatistics(database, result) if dry_session is None else None

    def run_phase(
        name: str,
        items: Iterable[Any],
        write: Callable[[Session, list], None],
        counted: type | None = None,
    ) -> None:
        # ``counted``: the kind of item the progress counts (courses, not the enrolments
        # that stream with them).
        done = 0
        for chunk in _batches(items, batch_size):
            with batch() as session:
                write(session, chunk)
            done += len(chunk) if counted is None else sum(isinstance(i, counted) for i in chunk)
            if planner is not None:
                planner.after_batch(name)
            if progress is not None:
                progress(name, done)

    try:
        if dry_session is not None:
            dry_session.begin()
        if "members" in phases:
            run_phase("members", connector.iter_members(since), writer.members)
        if "courses" in phases:
            failed_before = result.failed
            run_phase("courses", connector.iter_courses(), writer.courses, CourseRecord)
            if full and result.failed == failed_before:
                with batch() as session:
                    writer.end_enrolments(session, started)
            elif full:
                # An enrolment whose row failed was not seen but may well still exist.
                result.message = "enrolments not reconciled: some course rows failed"
        if "learning_records" in phases:
            run_phase("learning records", connector.iter_learning_records(since), writer.learning)
        if full and "members" in phases:
            with batch() as session:
                writer.reconcile(session, started, getattr(connector, "skipped_ids", ()))
    except BaseException as exc:
        result.status = "failed"
        result.message = (
            str(exc) if isinstance(exc, ConnectorError) else (f"{type(exc).__name__}: {exc}")
        )
        result.seconds = time.perf_counter() - clock
        _finish(database, run_id, result, cursor=None)
        if isinstance(exc, Exception):
            raise SyncFailed(result.message, result) from exc
        raise
    finally:
        if dry_session is not None:
            dry_session.rollback()
            dry_session.close()
        connector.close()
    result.status = "partial" if result.failed else "succeeded"
    result.seconds = time.perf_counter() - clock
    cursor = None if dry_run else {**cursor_before, "since": started.isoformat()}
    result.cursor_after = cursor
    _finish(database, run_id, result, cursor=cursor)
    return result


class _PlannerStatistics:
    """Keeps PostgreSQL's planner statistics in step while a run loads many rows.

    Loading into tables that were (nearly) empty, PostgreSQL keeps planning for the
    empty tables until autovacuum's next round, up to a minute later: the statements of
    each batch and the foreign-key checks of every inserted row then scan whole tables,
    and a first sync slowed from seconds to minutes in benchmarks/sync.py. ``ANALYZE``
    after the rows added double (500, 1,000, 2,000...) costs a few analyses a run and
    invalidates those plans. It is only a hint: a role that may not analyze is ignored.
    """

    # The first ANALYZE, after this many rows: the empty-table plans hurt well before
    # a default batch is done.
    FIRST_AT = 500
    TABLES = {
        "members": "members, identities",
        "courses": "courses, enrolments, identities, members",
        "learning records": "learning_records",
    }

    def __init__(self, database: Database, result: SyncResult) -> None:
        self.database, self.result = database, result
        self.enabled = database.engine.dialect.name == "postgresql"
        self.next_at = self.FIRST_AT

    def after_batch(self, phase: str) -> None:
        if not self.enabled or self.result.added < self.next_at:
            return
        self.next_at = self.result.added * 2
        try:
            with self.database.engine.begin() as connection:
                connection.exec_driver_sql(f"ANALYZE {self.TABLES.get(phase, 'members')}")
        except SQLAlchemyError:
            self.enabled = False


def _finish(
    database: Database, run_id: int, result: SyncResult, *, cursor: dict[str, Any] | None
) -> None:
    """Record the run's outcome and, after a real successful run, move the cursor."""
    with database.transaction() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        run.status = result.status
        run.finished_at = utcnow()
        run.added, run.updated = result.added, result.updated
        run.deactivated, run.failed = result.deactivated, result.failed
        run.errors = list(result.errors)
        run.message = result.message
        run.cursor_after = cursor
        if cursor is not None:
            config = session.get(ConnectorConfig, run.connector_id)
            assert config is not None
            config.cursor = cursor
