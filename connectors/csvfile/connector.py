"""A members CSV as a connector, so an import goes through the one sync path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ..base import CourseItem, LearningItem, MemberItem, RecordProblem
from .mapping import CsvMapping
from .reader import iter_rows


class CsvConnector:
    """Members from a decoded CSV text, validated row by row as they stream.

    A file has no "changed since": every import reads all of it (``since`` is ignored).
    Bad rows come out as :class:`RecordProblem` with source id ``line N``, so a
    ``--skip-bad-rows`` import records them on its :class:`~records.SyncRun`.
    """

    def __init__(self, text: str, mapping: CsvMapping, name: str = "the file") -> None:
        self.text, self.mapping, self.name = text, mapping, name
        self.source = mapping.source

    def iter_members(self, since: datetime | None = None) -> Iterator[MemberItem]:
        for line, record, reason in iter_rows(self.text, self.mapping, self.name):
            if record is not None:
                yield record
            else:
                yield RecordProblem(f"line {line}", reason or "invalid")

    def iter_courses(self) -> Iterator[CourseItem]:
        return iter(())

    def iter_learning_records(self, since: datetime | None) -> Iterator[LearningItem]:
        return iter(())

    def close(self) -> None:
        """Nothing to release: the text is already in memory."""
