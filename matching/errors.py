"""Exceptions raised by the matching library.

Every error is a :class:`ValueError` subclass so that callers which only know
"bad input" can catch one thing, while callers that care can tell a broken
questionnaire from an impossible problem.
"""

from __future__ import annotations

__all__ = [
    "AnswerError",
    "InfeasibleError",
    "InputError",
    "MatchingError",
    "QuestionnaireError",
]


class MatchingError(ValueError):
    """Base class for every error raised by :mod:`matching`."""


class InputError(MatchingError):
    """An array passed to an entry point has the wrong shape, type or values."""


class QuestionnaireError(MatchingError):
    """A questionnaire definition is malformed (unknown question, bad rule, ...)."""


class AnswerError(MatchingError):
    """A member's answers do not fit the questionnaire (wrong type, unknown option)."""


class InfeasibleError(MatchingError):
    """The requested problem has no solution (e.g. fixed pairs exceed a capacity)."""
