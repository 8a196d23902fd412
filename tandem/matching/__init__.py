"""Tandem's matching engine: questionnaire-driven scoring and optimal, stable or
shortlist matching that explains itself.

A pure library (numpy, scipy, OR-Tools' min-cost flow): no web, database or IO.

Raw-matrix entry points:
    solve(scores, capacities, *, mode, objective, forbidden, k, ...) -> MatchResult
    solve_peer(scores, *, forbidden, group_size) -> MatchResult
"""

from .api import solve, solve_peer
from .errors import (
    AnswerError,
    InfeasibleError,
    InputError,
    MatchingError,
    QuestionnaireError,
)
from .result import MatchResult, Pair, Unmatched

__all__ = [
    "AnswerError",
    "InfeasibleError",
    "InputError",
    "MatchResult",
    "MatchingError",
    "Pair",
    "QuestionnaireError",
    "Unmatched",
    "solve",
    "solve_peer",
]
