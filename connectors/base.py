"""What every connector hands the sync: normalised records, streamed.

A connector only reads its source. It yields these dataclasses lazily (fetching a page
when the previous one is used up) and never touches the database: ``sync.py`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from members import PersonRecord

LEARNING_KINDS = ("completion", "activity_completion", "grade", "progress")


@dataclass(frozen=True)
class CourseRecord:
    """A course as the source knows it; its enrolments follow it in the stream."""

    source: str
    external_id: str
    title: str = ""
    short_name: str | None = None
    active: bool = True


@dataclass(frozen=True)
class EnrolmentRecord:
    """A person's role in a course. ``person`` carries what the source says about them."""

    source: str
    course_external_id: str
    person: PersonRecord
    role: str
    status: str = "active"
    last_access_at: datetime | None = None


@dataclass(frozen=True)
class LearningFact:
    """One dated fact of a person's learning, keyed so a re-sync updates it in place."""

    source: str
    person_external_id: str
    record_key: str
    kind: str
    course_external_id: str | None = None
    completed: bool | None = None
    score: float | None = None
    grade: str | None = None
    progress: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind not in LEARNING_KINDS:
            raise ValueError(f"learning record kind {self.kind!r}; need one of {LEARNING_KINDS}")


@dataclass(frozen=True)
class RecordProblem:
    """A source row that failed validation: reported with its id, the stream goes on."""

    source_id: str
    reason: str


MemberItem = PersonRecord | RecordProblem
CourseItem = CourseRecord | EnrolmentRecord | RecordProblem
LearningItem = LearningFact | RecordProblem


@runtime_checkable
class Connector(Protocol):
    """A source of members, courses with enrolments, and learning history.

    ``source`` names the identity source its ids belong to (``moodle``, ``canvas``,
    ``directory``, ``csv``...). A connector may also keep ``skipped_ids``: the external
    ids it left out on purpose (system accounts). A full sync never deactivates a member
    for them: such a person may still launch from the LMS.
    """

    source: str

    def iter_members(self, since: datetime | None = None) -> Iterator[MemberItem]:
        """Every member (or, with ``since``, those changed since then, when the source can say)."""
        ...

    def iter_courses(self) -> Iterator[CourseItem]:
        """Every course, each followed by its enrolments."""
        ...

    def iter_learning_records(self, since: datetime | None) -> Iterator[LearningItem]:
        """Learning facts, all of them or those that may have changed since ``since``."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
