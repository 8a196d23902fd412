"""Questionnaire-level matching for a programme: the entry point for programmes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_bipartite_matching

from .api import DEFAULT_CANDIDATES, DEFAULT_TOL, _check_options, solve_peer, solve_source
from .candidates import ScoreSource
from .errors import InputError, QuestionnaireError
from .explain import Explanation, explain, explain_pairs
from .result import MatchResult, Pair, Unmatched
from .scoring import Scorer
from .validate import check_capacities, check_pairs

__all__ = ["KINDS", "Matcher"]

KINDS = ("one_to_one", "group", "peer", "reverse", "flash")


class _ProgrammeSource(ScoreSource):
    """A scorer's rows with excluded pairs (and, for flash, no-shared-hour pairs) removed."""

    def __init__(self, scorer: Scorer, excluded: sp.csr_array | None, slots_q: str | None):
        self.scorer, self.excluded, self.slots_q = scorer, excluded, slots_q
        self.n, self.m = scorer.n, scorer.m

    def rows(self, idx: np.ndarray) -> np.ndarray:
        block = self.scorer.rows(idx)
        if self.excluded is not None:
            block[self.excluded[idx].toarray()] = -np.inf
        if self.slots_q is not None:
            block[self.scorer.shared_hours(self.slots_q, idx) == 0] = -np.inf
        return block


class Matcher:
    """Match a programme's members from their questionnaire answers.

    Parameters are stored as given; :meth:`fit` does the work and sets
    ``scorer_`` and ``result_``.

    Args:
        questionnaire: A :class:`~matching.questionnaire.Questionnaire` or its dict.
        kind: "one_to_one", "group" (mentor capacity k, optional
            ``min_group_size``), "peer" (one pool), "reverse" (the seniority rule
            turned round) or "flash" (one-off sessions in a shared weekly hour).
        mode: "assigned", "stable" or "shortlist" (not for peer).
        objective: For "assigned": "max_score", "max_participation" or "fair".
        k: Shortlist length.
        min_group_size: For "group": a mentor gets none or at least this many.
        group_size: For "peer": 2 for pairs, more for groups.
        candidates: Mentors kept per mentee before pricing (None: all).
        spread: Shortlist spread (see :func:`matching.solve`).
        tol: For "assigned": stop improving once the proven relative gap
            ``(bound - total) / bound`` is at most this (default 1e-4, 0.01%;
            0 for as exact as pricing gets). See :func:`matching.solve`.
    """

    def __init__(
        self,
        questionnaire: Any,
        *,
        kind: str = "one_to_one",
        mode: str = "assigned",
        objective: str = "max_score",
        k: int = 5,
        min_group_size: int | None = None,
        group_size: int = 2,
        candidates: int | None = DEFAULT_CANDIDATES,
        spread: float = 1.5,
        tol: float = DEFAULT_TOL,
    ):
        self.questionnaire = questionnaire
        self.kind = kind
        self.mode = mode
        self.objective = objective
        self.k = k
        self.min_group_size = min_group_size
        self.group_size = group_size
        self.candidates = candidates
        self.spread = spread
        self.tol = tol

    def fit(
        self,
        mentees: Sequence[Mapping[str, Any]],
        mentors: Sequence[Mapping[str, Any]] | None = None,
        *,
        capacities: Any = 1,
        excluded: Iterable[tuple[int, int]] = (),
        fixed: Iterable[tuple[int, int]] = (),
        rows: Iterable[int] | None = None,
    ) -> Matcher:
        """Score and match.

        Args:
            mentees: Answer dicts (question id -> answer), one per mentee; for
                "peer", the whole pool.
            mentors: Answer dicts, one per mentor (None for "peer").
            capacities: Per mentor (or one number for all).
            excluded: (mentee, mentor) pairs never to match: a previous match
                that ended, a declared conflict, the same line manager.
            fixed: Pairs held fixed when re-matching (their capacity is used).
            rows: Mentees to re-match (default: everyone not in ``fixed``).

        Returns:
            self, with ``scorer_`` and ``result_`` (a :class:`MatchResult`).

        Raises:
            QuestionnaireError, AnswerError, InputError: bad definition or input.
        """
        if self.kind not in KINDS:
            raise InputError(f"kind is {self.kind!r}; need one of {', '.join(KINDS)}")
        _check_options(
            self.mode,
            self.objective,
            self.k,
            self.candidates,
            self.spread,
            self.min_group_size,
            self.tol,
        )
        if self.kind == "peer":
            return self._fit_peer(mentees, excluded)
        if mentors is None:
            raise InputError(f"kind {self.kind!r} needs mentors; only 'peer' uses one pool")
        scorer = Scorer(self.questionnaire, reverse=self.kind == "reverse").fit(mentees, mentors)
        self.scorer_ = scorer
        shape = (scorer.n, scorer.m)
        if scorer.m == 0 or scorer.n == 0:
            raise InputError(f"need at least one mentee and one mentor; got {shape}")
        caps = check_capacities(capacities, scorer.m)
        ex = check_pairs(list(excluded), shape, "excluded")
        ex_mat = None
        if len(ex):
            ex_mat = sp.csr_array((np.ones(len(ex), bool), (ex[:, 0], ex[:, 1])), shape=shape)
        slots_q = self._slot_question() if self.kind == "flash" else None
        source = _ProgrammeSource(scorer, ex_mat, slots_q)
        result = solve_source(
            source,
            caps,
            mode=self.mode,
            objective=self.objective,
            k=self.k,
            fixed=check_pairs(list(fixed), shape, "fixed"),
            rows=None if rows is None else list(rows),
            min_group_size=self.min_group_size if self.kind == "group" else None,
            candidates=self.candidates,
            spread=self.spread,
            tol=self.tol,
        )
        if self.kind == "flash" and self.mode == "assigned":
            result = self._schedule(result, slots_q)
        self.result_ = result
        return self

    def _slot_question(self) -> str:
        qn = self.scorer_.questionnaire_
        for q in qn.questions:
            if q.kind == "availability":
                return q.id
        raise QuestionnaireError("a flash programme needs an availability question")

    def _schedule(self, result: MatchResult, qid: str) -> MatchResult:
        """Give each mentor's flash sessions distinct shared weekly hours."""
        a = self.scorer_.mentees_.arrays[qid]
        b = self.scorer_.mentors_.arrays[qid]
        by_mentor: dict[int, list[Pair]] = {}
        for p in result.pairs:
            by_mentor.setdefault(p.mentor, []).append(p)
        pairs, dropped = [], []
        for j, plist in sorted(by_mentor.items()):
            ok = np.array([a[p.mentee] & b[j] for p in plist])
            got = maximum_bipartite_matching(sp.csr_array(ok), perm_type="column")
            for p, h in zip(plist, got, strict=True):
                if h >= 0:
                    pairs.append(Pair(p.mentee, p.mentor, p.score, p.fixed, int(h)))
                else:
                    dropped.append(Unmatched(p.mentee, "no free shared hour for a session"))
        pairs.sort(key=lambda p: (p.mentee, p.mentor))
        total = float(sum(p.score for p in pairs))
        return MatchResult(
            mode=result.mode,
            objective=result.objective,
            pairs=tuple(pairs),
            unmatched=tuple(sorted(result.unmatched + tuple(dropped), key=lambda u: u.mentee)),
            total=total,
            bound=result.bound,
            lowest=min((p.score for p in pairs), default=None),
            stats=result.stats,
        )

    def _fit_peer(self, people: Sequence[Mapping[str, Any]], excluded) -> Matcher:
        scorer = Scorer(self.questionnaire).fit(people, people)
        self.scorer_ = scorer
        n = scorer.n
        block = scorer.score_block(np.arange(n))
        forbidden = ~np.isfinite(block)
        ex = check_pairs(list(excluded), (n, n), "excluded")
        forbidden[ex[:, 0], ex[:, 1]] = True
        self.result_ = solve_peer(
            np.where(forbidden, 0.0, block),
            forbidden=forbidden,
            group_size=self.group_size,
            candidates=self.candidates,
        )
        return self

    def explain(self, mentee: int, mentor: int) -> Explanation:
        """Explain a pair's score (call after :meth:`fit`)."""
        return explain(self.scorer_, mentee, mentor)

    def explain_pairs(self, pairs) -> list[Explanation]:
        """Explain many ``(mentee, mentor)`` pairs at once (call after :meth:`fit`).

        ``pairs`` is an iterable of index pairs or :class:`Pair` objects; the
        result lists one :class:`Explanation` per pair, in order.
        """
        idx = [(p.mentee, p.mentor) if isinstance(p, Pair) else tuple(p) for p in pairs]
        arr = np.asarray(idx, dtype=np.int64).reshape(-1, 2)
        return explain_pairs(self.scorer_, arr[:, 0], arr[:, 1])
