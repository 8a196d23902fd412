"""Errors of programme set-up, enrolment and match day.

Each carries a plain message meant for the person who made the request; the web layer
maps the classes to HTTP statuses in one place.
"""

from __future__ import annotations


class ProgrammeError(Exception):
    """Base of every error raised by ``programmes``."""


class NotFoundError(ProgrammeError):
    """No such programme, participant or match in this tenant (or not visible to you)."""


class OutOfScopeError(NotFoundError):
    """The programme exists in the tenant but not in the coordinator's course: answered as
    "not found" (so nothing tells it exists) and audited, since it is someone reaching
    past their course."""

    def __init__(self, message: str, programme_id: int) -> None:
        super().__init__(message)
        self.programme_id = programme_id


class PermissionDeniedError(ProgrammeError):
    """The member's role does not allow this."""


class InvalidInputError(ProgrammeError):
    """Input that fails validation. ``problems`` maps a field to what is wrong with it."""

    def __init__(self, message: str, problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or {}


class ConflictError(ProgrammeError):
    """The request clashes with the current state: enrolled twice, a slot just taken,
    a decision already made, an empty draft published."""
