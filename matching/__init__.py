"""Tandem's matching engine: questionnaire-driven scoring and optimal, stable or
shortlist matching that explains itself.

A pure library (numpy, scipy, OR-Tools' min-cost flow): no web, database or IO.

Questionnaire level (what programmes calls):
    Matcher(questionnaire, *, kind, mode, objective, ...).fit(mentees, mentors, ...)
    Matcher.result_, Matcher.explain(mentee, mentor) -> Explanation
    Matcher.explain_pairs(pairs), explain_pairs(scorer, mentees, mentors) -> [Explanation]

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
from .explain import Explanation, Factor, explain, explain_pairs
from .matcher import Matcher
from .questionnaire import KINDS, RULE_KINDS, RULES, Question, Questionnaire, Rule
from .result import MatchResult, Pair, Unmatched
from .scoring import Scorer
from .stable import blocking_pairs

__all__ = [
    "KINDS",
    "RULES",
    "RULE_KINDS",
    "AnswerError",
    "Explanation",
    "Factor",
    "InfeasibleError",
    "InputError",
    "MatchResult",
    "Matcher",
    "MatchingError",
    "Pair",
    "Question",
    "Questionnaire",
    "QuestionnaireError",
    "Rule",
    "Scorer",
    "Unmatched",
    "blocking_pairs",
    "explain",
    "explain_pairs",
    "solve",
    "solve_peer",
]
