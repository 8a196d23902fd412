"""Raw-matrix entry points: :func:`solve` and :func:`solve_peer`."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from .assign import DEFAULT_TOL, solve_assigned
from .candidates import (
    CachedSource,
    Candidates,
    DenseSource,
    RowSubsetSource,
    ScoreSource,
    SparseSource,
    build_candidates,
    source_for,
)
from .errors import InfeasibleError, InputError
from .peer import peer_groups, peer_pairs
from .result import MatchResult, Pair, Unmatched, make_pairs
from .shortlist import solve_shortlist
from .stable import _pair_values, deferred_acceptance
from .validate import check_capacities, check_forbidden, check_pairs, check_scores

__all__ = ["solve", "solve_peer", "solve_source"]

MODES = ("assigned", "stable", "shortlist")
OBJECTIVES = ("max_score", "max_participation", "fair")
DEFAULT_CANDIDATES = 20  # per mentee; pricing repairs anything the cut missed
# Stable lists start at least this long: extending a list means re-reading a
# row, and a longer first list makes that rare (lists are extended lazily).
STABLE_LIST = 64
CACHE_BYTES = 1_000_000_000  # keep scored rows (float32) up to this size


def solve(
    scores: Any,
    capacities: Any,
    *,
    mode: str = "assigned",
    objective: str = "max_score",
    forbidden: Any = None,
    k: int = 5,
    preferences: Any = None,
    fixed: Any = None,
    rows: Any = None,
    min_group_size: int | None = None,
    candidates: int | None = DEFAULT_CANDIDATES,
    spread: float = 1.5,
    tol: float = DEFAULT_TOL,
) -> MatchResult:
    """Match mentees (rows) to mentors (columns) from a score matrix.

    Args:
        scores: Dense ndarray or scipy sparse matrix, shape (mentees, mentors),
            values 0-100. In a sparse matrix a pair without a stored entry is not
            a candidate at all (as if forbidden); an explicit 0 is.
        capacities: Integer array, one entry per mentor (or a scalar for all).
        mode: "assigned" (optimise), "stable" (mentee-proposing deferred
            acceptance) or "shortlist" (k mentors per mentee).
        objective: For "assigned": "max_score"; "max_participation" (match as
            many mentees as possible, then maximise score); "fair" (among
            matchings with that many mentees, maximise the lowest score, then
            the total).
        forbidden: Boolean mask of scores' shape; True pairs are never matched.
        k: List length for "shortlist".
        preferences: For "stable", mentees' own preference scores (same shape;
            higher is preferred); mentors rank by ``scores``. Default ``scores``.
        fixed: (mentee, mentor) pairs held fixed by a re-match: they consume
            capacity, are reported with ``fixed=True`` and are not re-solved.
        rows: Mentees to (re-)solve; default every mentee not in ``fixed``.
            Others are reported unmatched with reason "not part of this re-match".
        min_group_size: For group programmes: a mentor gets either no mentees
            or at least this many (heuristic; the bound ignores it, so stays valid).
        candidates: Mentors kept per mentee before pricing (None: all). For
            "stable", the first proposal list is at least ``STABLE_LIST`` (64)
            long and is extended lazily when a mentee exhausts it.
        spread: For "shortlist", how far past its share a mentor may be listed.
        tol: For "assigned": the relative proven gap ``(bound - total) / bound``
            at which column generation stops (default 1e-4, i.e. 0.01%). ``0``
            keeps pricing until no left-out pair improves the solution (exact
            up to the thousandths the flow solves in, within ``MAX_ROUNDS``).
            The bound is a true upper bound whatever ``tol`` is.

    Returns:
        A :class:`MatchResult`. For "assigned", ``bound`` is an upper bound on
        the optimum of the full problem for the objective: the best total score
        (max_score); the best total among matchings with at least as many pairs
        (max_participation); the best total among such matchings whose lowest
        score is at least ours (fair). Scores are solved in thousandths.

    Raises:
        InputError: bad shapes, NaN, scores outside 0-100, negative capacity, ...
        InfeasibleError: fixed pairs exceed a mentor's capacity.
    """
    mat = check_scores(scores)
    shape = mat.shape
    caps = check_capacities(capacities, shape[1])
    mask = check_forbidden(forbidden, shape)
    _check_options(mode, objective, k, candidates, spread, min_group_size, tol)
    fixed_arr = check_pairs(fixed, shape, "fixed")
    pref_source = None
    if preferences is not None:
        if mode != "stable":
            raise InputError(f"preferences are used by mode 'stable' only; got mode {mode!r}")
        pref = check_scores(preferences, "preferences")
        if pref.shape != shape:
            raise InputError(f"preferences has shape {pref.shape}; need the scores' shape {shape}")
        pref_source = source_for(pref, mask)
    source = source_for(mat, mask)
    return solve_source(
        source,
        caps,
        mode=mode,
        objective=objective,
        k=k,
        pref_source=pref_source,
        fixed=fixed_arr,
        rows=rows,
        min_group_size=min_group_size,
        candidates=candidates,
        spread=spread,
        tol=tol,
    )


def _check_options(mode, objective, k, candidates, spread, min_group_size, tol=DEFAULT_TOL) -> None:
    if mode not in MODES:
        raise InputError(f"mode is {mode!r}; need one of {', '.join(MODES)}")
    if objective not in OBJECTIVES:
        raise InputError(f"objective is {objective!r}; need one of {', '.join(OBJECTIVES)}")
    if not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"k is {k!r}; need a positive integer")
    if candidates is not None and (not isinstance(candidates, int | np.integer) or candidates < 1):
        raise InputError(f"candidates is {candidates!r}; need a positive integer or None")
    if not spread >= 1:
        raise InputError(f"spread is {spread!r}; need a number >= 1")
    if min_group_size is not None and min_group_size < 1:
        raise InputError(f"min_group_size is {min_group_size!r}; need a positive integer")
    if isinstance(tol, bool) or not isinstance(tol, int | float | np.floating) or not 0 <= tol < 1:
        raise InputError(f"tol is {tol!r}; need a number from 0 up to (not including) 1")


def solve_source(
    source: ScoreSource,
    caps: np.ndarray,
    *,
    mode: str = "assigned",
    objective: str = "max_score",
    k: int = 5,
    pref_source: ScoreSource | None = None,
    fixed: np.ndarray | None = None,
    rows: Any = None,
    min_group_size: int | None = None,
    candidates: int | None = DEFAULT_CANDIDATES,
    spread: float = 1.5,
    tol: float = DEFAULT_TOL,
) -> MatchResult:
    """Solve from a :class:`ScoreSource` (rows produced on demand); see :func:`solve`.

    The questionnaire layer calls this with a source that scores in chunks, so
    the full matrix never exists.
    """
    t0 = time.perf_counter()
    n, m = source.n, source.m
    fixed = np.zeros((0, 2), np.int64) if fixed is None else fixed
    caps = caps.copy()
    # Re-matching: held pairs consume capacity; only `rows` are solved.
    if len(fixed):
        np.subtract.at(caps, fixed[:, 1], 1)
        if caps.min() < 0:
            j = int(np.argmin(caps))
            raise InfeasibleError(f"fixed pairs give mentor {j} more mentees than its capacity")
        if len(np.unique(fixed[:, 0])) < len(fixed):
            raise InfeasibleError("fixed pairs list a mentee more than once")
    in_fixed = np.zeros(n, dtype=bool)
    in_fixed[fixed[:, 0]] = True
    if rows is None:
        todo = np.nonzero(~in_fixed)[0]
    else:
        todo = np.unique(np.asarray(rows, dtype=np.int64))
        if todo.size and (todo.min() < 0 or todo.max() >= n):
            raise InputError(f"rows has a mentee index outside 0..{n - 1}")
        if in_fixed[todo].any():
            raise InputError("rows includes a mentee that is also in fixed")
    sub = source if len(todo) == n else RowSubsetSource(source, todo)
    sub_pref = None
    if pref_source is not None:
        sub_pref = pref_source if len(todo) == n else RowSubsetSource(pref_source, todo)
    kk = candidates if mode != "shortlist" or candidates is None else max(candidates, 4 * k)
    if mode == "stable" and kk is not None:
        kk = max(kk, STABLE_LIST)
    pre = None  # candidates selected during the caching pass
    if not isinstance(source, DenseSource | SparseSource) and len(todo) * m * 4 <= CACHE_BYTES:
        # A scoring source: score once (selecting candidates in the same pass),
        # then re-read rows cheaply.
        cached = CachedSource(sub, fill=sub_pref is not None)
        if len(todo) and sub_pref is None:
            pre = build_candidates(sub, kk, cache=cached.cache)
        sub = cached
    t_cand = time.perf_counter()
    bound = None
    shortlists = None
    stats: dict = {}
    if len(todo) == 0:
        r = c = np.zeros(0, np.int64)
        s = np.zeros(0)
    elif mode == "assigned":
        cand = pre if pre is not None else build_candidates(sub, kk)
        out = solve_assigned(sub, cand, caps, objective, min_group_size, tol)
        r, c, s, bound, stats = out.rows, out.cols, out.score, out.bound, out.stats
    elif mode == "stable":
        cand = pre if pre is not None else build_candidates(sub_pref or sub, kk)
        out = deferred_acceptance(sub_pref or sub, sub, cand, caps)
        r, c, s, stats = out.rows, out.cols, out.score, out.stats
    else:
        cand = pre if pre is not None else build_candidates(sub, kk)
        r, c, s, stats = solve_shortlist(sub, cand, caps, k, spread)
    r = todo[r]
    fixed_scores = _pair_scores(source, fixed)
    all_r = np.concatenate([r, fixed[:, 0]])
    all_c = np.concatenate([c, fixed[:, 1]])
    all_s = np.concatenate([s, fixed_scores])
    is_fixed = np.concatenate([np.zeros(len(r), bool), np.ones(len(fixed), bool)])
    pairs = make_pairs(all_r, all_c, all_s, is_fixed)
    if mode == "shortlist":
        by_row: dict[int, list[Pair]] = {}
        for p in sorted(pairs, key=lambda p: (p.mentee, -p.score, p.mentor)):
            by_row.setdefault(p.mentee, []).append(p)
        shortlists = tuple(tuple(by_row.get(i, ())) for i in range(n))
    matched = np.zeros(n, dtype=bool)
    matched[all_r] = True
    in_todo = np.zeros(n, dtype=bool)
    in_todo[todo] = True
    reasons = _reasons(mode, objective, caps, in_todo)
    unmatched = tuple(
        Unmatched(int(i), reasons if in_todo[i] else "not part of this re-match")
        for i in np.nonzero(~matched)[0]
    )
    if bound is not None:
        bound = float(bound + fixed_scores.sum())
    stats = dict(
        stats,
        seconds=round(time.perf_counter() - t0, 4),
        scoring_seconds=round(t_cand - t0, 4),
    )
    return MatchResult(
        mode=mode,
        objective=objective if mode == "assigned" else None,
        pairs=pairs,
        unmatched=unmatched,
        total=float(all_s.sum()),
        bound=bound,
        lowest=float(all_s.min()) if len(all_s) else None,
        shortlists=shortlists,
        stats=stats,
    )


def _reasons(mode: str, objective: str, caps: np.ndarray, in_todo: np.ndarray) -> str:
    """One plain-words reason for the mentees left unmatched by this solve."""
    if caps.sum() < in_todo.sum():
        short = "not enough mentor places for everyone"
    else:
        short = "no allowed mentor had a free place"
    if mode == "stable":
        return f"{short} among mentors who ranked them highly enough"
    if mode == "shortlist":
        return "no allowed mentor could be listed"
    if objective == "max_score":
        return f"{short}, or only zero-score pairs were left"
    return short


def _pair_scores(source: ScoreSource, pairs: np.ndarray) -> np.ndarray:
    """Scores of the fixed pairs: their mentees' rows scored in chunks, not one by one."""
    out = np.zeros(len(pairs))
    if len(pairs):
        out = _pair_values(source, pairs[:, 0], pairs[:, 1])
    if len(out) and not np.isfinite(out).all():
        raise InfeasibleError("a fixed pair is forbidden or has no score")
    return out


def solve_peer(
    scores: Any,
    *,
    forbidden: Any = None,
    group_size: int = 2,
    candidates: int | None = DEFAULT_CANDIDATES,
) -> MatchResult:
    """Match a single pool of peers: pairs (exact) or groups of ``group_size``.

    Args:
        scores: Square (people, people) matrix, 0-100; symmetrised as
            ``(S + S.T) / 2``. The diagonal is ignored.
        forbidden: Optional boolean mask of the same shape (symmetrised with OR).
        group_size: 2 for pairs (maximum-weight matching in a general graph, with
            a bound), more for groups (greedy plus swaps, no bound).
        candidates: Partners kept per person for pairs (None: all).

    Returns:
        A :class:`MatchResult` with mode "peer"; ``pairs`` has ``mentee < mentor``
        (both are peers); for groups, ``groups`` lists members and ``pairs``
        every within-group pair.

    Raises:
        InputError: a non-square matrix, bad values or a group size below 2.
    """
    mat = check_scores(scores)
    if sp.issparse(mat):
        mat = mat.toarray()
    n = mat.shape[0]
    if mat.shape[0] != mat.shape[1]:
        raise InputError(f"scores has shape {mat.shape}; a peer pool needs a square matrix")
    if not isinstance(group_size, int | np.integer) or group_size < 2:
        raise InputError(f"group_size is {group_size!r}; need an integer >= 2")
    mask = check_forbidden(forbidden, mat.shape)
    sym = (mat + mat.T) / 2
    allowed = ~np.eye(n, dtype=bool)
    if mask is not None:
        dense = mask.toarray() if sp.issparse(mask) else mask
        allowed &= ~(dense | dense.T)
    if group_size == 2:
        cand = build_candidates(DenseSource(sym, ~allowed), candidates)
        a, b, w, bound = peer_pairs(cand)
        pairs = make_pairs(a, b, w)
        used = np.zeros(n, dtype=bool)
        used[a] = used[b] = True
        groups = None
    else:
        bound = None
        groups = peer_groups(sym, group_size, allowed)
        a_l, b_l = [], []
        for g in groups:
            for x in range(len(g)):
                for y in range(x + 1, len(g)):
                    a_l.append(g[x])
                    b_l.append(g[y])
        a, b = np.array(a_l, np.int64), np.array(b_l, np.int64)
        pairs = make_pairs(a, b, sym[a, b])
        used = np.ones(n, dtype=bool)
    scores_all = np.array([p.score for p in pairs])
    unmatched = tuple(
        Unmatched(int(i), "no allowed partner left (odd pool or forbidden pairs)")
        for i in np.nonzero(~used)[0]
    )
    return MatchResult(
        mode="peer",
        objective=None,
        pairs=pairs,
        unmatched=unmatched,
        total=float(scores_all.sum()),
        bound=bound,
        lowest=float(scores_all.min()) if len(scores_all) else None,
        groups=groups,
    )


# Re-exported for the questionnaire layer, which builds its own sources.
__all__ += ["Candidates"]
