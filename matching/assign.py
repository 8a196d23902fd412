"""``assigned`` mode: maximise total score under capacities, with a proven bound.

Algorithm: min-cost flow on each mentee's top candidates, then *pricing*: the
flow's dual prices ``v`` give a Lagrangian upper bound
``sum_i max(0, max_j (s_ij - v_j)) + sum_j c_j v_j`` over **all** allowed pairs.
Mentees whose left-out pairs could beat their candidate term (known from
``outside[i]``) are re-scored in full; left-out pairs with positive reduced
cost are added and the flow is solved again (column generation). The bound is
computed from full rows wherever pruning could matter, so it is a true bound
on the full problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from .candidates import Candidates, ScoreSource, ThresholdSource, map_chunks, top_k
from .flow import bmatching, mentor_prices

__all__ = ["AssignOutcome", "solve_assigned"]

SCALE = 1000  # scores are solved as integers in thousandths of a point
MAX_ROUNDS = 8  # column-generation rounds; the bound stays valid if we stop early
ADD_PER_ROW = 8  # improving left-out pairs added per priced mentee per round
DEFAULT_TOL = 1e-4  # stop column generation once the proven relative gap is at most this


@dataclass
class AssignOutcome:
    """Edges chosen by an assigned solve plus its bound and diagnostics."""

    rows: np.ndarray
    cols: np.ndarray
    score: np.ndarray
    bound: float
    stats: dict = field(default_factory=dict)


def _lex_solve(
    source: ScoreSource,
    cand: Candidates,
    caps: np.ndarray,
    participation: bool,
    tol: float = DEFAULT_TOL,
) -> AssignOutcome:
    """Max score, or (if ``participation``) max count then score, by column generation.

    Stops once ``bound - total <= tol * bound`` (the proven relative gap), when
    no left-out pair improves, or after ``MAX_ROUNDS``. With participation the
    gap only counts once the bound proves no matching has more pairs (the
    bound, offset by ``big`` per pair, is below one more pair's offset).
    """
    n, m = cand.n, cand.m
    slots = int(min(n, caps.sum()))
    big = (100 * SCALE * slots + 1) if participation else 0
    big_f = big / SCALE
    stats = {"rounds": 0, "priced_rows": 0, "added_edges": 0, "prices_converged": True}
    while True:
        stats["rounds"] += 1
        w = np.rint(cand.score * SCALE).astype(np.int64) + big
        use = w > 0  # a zero-score pair adds nothing under max_score: leave it unmatched
        r, c, s, wu = cand.rows[use], cand.cols[use], cand.score[use], w[use]
        chosen = bmatching(n, m, r, c, wu, np.ones(n, np.int64), caps)
        v, ok = mentor_prices(n, m, r, c, wu, chosen)
        stats["prices_converged"] = stats["prices_converged"] and ok
        # Reduced scores s_ij - shift_j with shift = v - B; the bound's row term is
        # max(0, max_j (s_ij - shift_j)) over every allowed pair.
        shift = v / SCALE - big_f
        u = np.zeros(n)
        if len(cand.rows):
            np.maximum.at(u, cand.rows, cand.score - shift[cand.cols])
        # Left-out pairs score at most outside[i], so they cannot beat u[i] unless
        # outside[i] - min_j shift_j does: only those rows are read again.
        need = np.nonzero(cand.outside - shift.min() > u + 1e-9)[0]
        u_cand = u.copy()
        add_r, add_c, add_s = [], [], []
        if need.size:
            stats["priced_rows"] += int(need.size)
            grow = stats["rounds"] < MAX_ROUNDS
            # Most rows: one sequential pass (a cache yields views, not copies).
            price = partial(_price, shift=shift, u_cand=u_cand, grow=grow)
            for idx, up, new in map_chunks(source, price, need if 2 * need.size < n else None):
                u[idx] = np.maximum(u[idx], up)
                if new is not None:
                    add_r.append(new[0])
                    add_c.append(new[1])
                    add_s.append(new[2])
        added = 0
        if add_r:
            ar = np.concatenate(add_r)
            added = len(ar)
            cand.add(ar, np.concatenate(add_c), np.concatenate(add_s))
            stats["added_edges"] += added
        bound_now = float(u.sum() + (caps * (shift + big_f)).sum()) - big_f * int(chosen.sum())
        got = float(s[chosen].sum())
        stats.setdefault("round_gaps", []).append(
            float(f"{max(0.0, bound_now - got) / bound_now:.3g}") if bound_now > 0 else 0.0
        )
        # Stop when nothing improves, or the proven gap is within the tolerance.
        count_proven = not participation or bound_now < big_f
        close = count_proven and bound_now - got <= tol * bound_now
        if added == 0 or stats["rounds"] >= MAX_ROUNDS or close:
            break
    bound_w = float(u.sum() + (caps * (shift + big_f)).sum())
    k_matched = int(chosen.sum())
    stats["candidate_edges"] = len(cand.rows)
    return AssignOutcome(r[chosen], c[chosen], s[chosen], bound_w - big_f * k_matched, stats)


def _price(idx, block, shift, u_cand, grow):
    """Price one chunk: the rows' bound terms and (if ``grow``) improving pairs.

    Runs in a worker thread; reads only ``block``, ``shift`` and ``u_cand``.
    Returns ``(idx, up, new)``: the rows' upper bounds on
    ``max(0, max_j (s_ij - shift_j))`` and ``(rows, cols, scores)`` of left-out
    pairs to add, or None.
    """
    red, margin = _reduced(block, shift)
    uc = u_cand[idx]
    best = np.max(red, axis=1, initial=0.0)
    # True row maxima are within `margin` of `best`: rows that stay below their
    # candidate term keep it exactly, others are bounded from above.
    up = np.where(best + margin > uc, best + margin, 0.0)
    if margin:  # rows within rounding of their candidate term: exactly
        near = np.nonzero(np.abs(best - uc) <= margin)[0]
        exact = np.asarray(block[near], np.float64) - shift[None, :]
        up[near] = np.max(exact, axis=1, initial=0.0)
    if not grow:
        return idx, up, None
    # Left-out pairs with positive reduced cost: add the best few (largest
    # reduced score, ties by mentor index). A candidate never qualifies
    # (u_cand already covers it), so every added edge is new and the loop
    # makes progress. Above 0.001: the flow solves thousandths, so smaller
    # gains are rounding.
    gain_rows = np.nonzero(best > uc + 1e-3 + margin)[0]
    if gain_rows.size == 0:
        return idx, up, None
    sub = red if gain_rows.size == len(idx) else red[gain_rows]
    rr, cc, vals, _ = top_k(sub, ADD_PER_ROW)
    ok = vals.astype(np.float64) - uc[gain_rows[rr]] > 1e-3 + margin
    rr, cc = gain_rows[rr[ok]], cc[ok]
    return idx, up, (idx[rr], cc, np.asarray(block[rr, cc], dtype=np.float64))


def _reduced(block: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, float]:
    """``block - shift`` and a bound on its rounding error.

    A float32 block with moderate prices is reduced in float32 (half the memory
    traffic of float64): casting ``shift`` and subtracting each round by at
    most half an ulp of the operands, so ``4 * eps * max|operand|`` bounds the
    error. Otherwise (float64 rows, or the large offsets of participation) the
    arithmetic is float64 and exact enough that the margin is 0.
    """
    lim = float(np.abs(shift).max(initial=0.0)) + 100.0
    if block.dtype == np.float32 and lim <= 1e4:
        red = block - shift.astype(np.float32)[None, :]
        return red, 4 * lim * float(np.finfo(np.float32).eps)
    return np.asarray(block, dtype=np.float64) - shift[None, :], 0.0


def _flow_graph(n: int, m: int, rows: np.ndarray, cols: np.ndarray, caps: np.ndarray):
    src, sink = n + m, n + m + 1
    tails = np.concatenate([np.full(n, src), rows, n + np.arange(m)])
    heads = np.concatenate([np.arange(n), n + cols, np.full(m, sink)])
    cap = np.concatenate([np.ones(n + len(rows), np.int32), caps.astype(np.int32)])
    return sp.csr_array((cap, (tails, heads)), shape=(n + m + 2, n + m + 2)), src, sink


def _max_cardinality(n: int, m: int, rows: np.ndarray, cols: np.ndarray, caps: np.ndarray) -> int:
    """Largest number of mentees that can be matched using only the given edges."""
    if len(rows) == 0:
        return 0
    g, src, sink = _flow_graph(n, m, rows, cols, caps)
    return int(maximum_flow(g, src, sink).flow_value)


def _source_side(n: int, m: int, rows: np.ndarray, cols: np.ndarray, caps: np.ndarray):
    """Mentees and mentors on the source side of a minimum cut (residual reachability).

    The cut's capacity is the maximum matching size. In the full graph the same
    cut only grows by the left-out edges from a source-side mentee to a
    mentor outside it, so if there are none, no larger matching exists there.
    """
    g, src, sink = _flow_graph(n, m, rows, cols, caps)
    flow = maximum_flow(g, src, sink).flow
    resid = sp.csr_array(g - flow)
    resid.data[resid.data < 0] = 0
    resid.eliminate_zeros()
    seen = np.zeros(n + m + 2, dtype=bool)
    seen[breadth_first_order(resid, src, directed=True, return_predecessors=False)] = True
    return seen[:n], seen[n : n + m]


def _fair(
    source: ScoreSource, cand: Candidates, caps: np.ndarray, tol: float = DEFAULT_TOL
) -> AssignOutcome:
    """Maximise the lowest pair score among max-participation matchings, then the total.

    The threshold is found on the candidate graph by binary search on maximum
    matchings; then a minimum cut certifies that no higher threshold works on
    the full graph: only left-out pairs from source-side mentees to mentors
    outside the cut could break it, and those (found in one pass over just
    those rows) are added and the search repeated.
    """
    first = _lex_solve(source, cand, caps, participation=True, tol=tol)
    target = len(first.rows)
    if target == 0:
        return first
    n, m = cand.n, cand.m
    lo = float(first.score.min())  # achievable: the participation solution reaches it
    checks = added = 0
    while True:
        values = np.unique(cand.score[cand.score >= lo])
        # Largest threshold whose edges still match `target` mentees (monotone).
        a, b = 0, len(values) - 1
        while a < b:
            mid = (a + b + 1) // 2
            keep = cand.score >= values[mid]
            ok = _max_cardinality(n, m, cand.rows[keep], cand.cols[keep], caps) >= target
            a, b = (mid, b) if ok else (a, mid - 1)
        t = float(values[a])
        # Certify on the full graph that scores above t cannot match `target`.
        checks += 1
        above = cand.score > t
        s_rows, s_cols = _source_side(n, m, cand.rows[above], cand.cols[above], caps)
        look = np.nonzero(s_rows & (cand.outside > t))[0]
        new_r, new_c, new_s = [], [], []
        for idx, block in source.chunks(look):
            rr, cc = np.nonzero((block > t) & ~s_cols[None, :])
            new_r.append(idx[rr])
            new_c.append(cc)
            new_s.append(block[rr, cc].astype(np.float64))
        if not new_r or sum(len(x) for x in new_r) == 0:
            break
        ar = np.concatenate(new_r)
        added += len(ar)
        cand.add(ar, np.concatenate(new_c), np.concatenate(new_s))
        lo = t
    keep = cand.score >= t
    outside = np.where(cand.outside < t, -np.inf, cand.outside)
    sub = Candidates(n, m, cand.rows[keep], cand.cols[keep], cand.score[keep], outside)
    out = _lex_solve(ThresholdSource(source, t), sub, caps, participation=True, tol=tol)
    out.stats["threshold"] = t
    out.stats["participation_target"] = target
    out.stats["threshold_checks"] = checks
    out.stats["threshold_added_edges"] = added
    return out


def solve_assigned(
    source: ScoreSource,
    cand: Candidates,
    caps: np.ndarray,
    objective: str,
    min_group_size: int | None = None,
    tol: float = DEFAULT_TOL,
) -> AssignOutcome:
    """Solve ``assigned`` mode for one objective; see :func:`matching.solve`."""
    caps = caps.copy()
    if objective == "fair":
        out = _fair(source, cand, caps, tol)
    else:
        out = _lex_solve(source, cand, caps, objective == "max_participation", tol)
    if not min_group_size or min_group_size <= 1:
        return out
    # Minimum group size is not a flow constraint: close under-filled mentors and
    # solve again (a heuristic). The first bound stays valid: closing only removes
    # solutions, so the relaxation without minimum sizes bounds the optimum.
    bound, closed = out.bound, 0
    while True:
        loads = np.bincount(out.cols, minlength=cand.m)
        bad = np.nonzero((loads > 0) & (loads < min_group_size))[0]
        if bad.size == 0:
            break
        worst = bad[np.lexsort((bad, loads[bad]))][: max(1, bad.size // 2)]
        caps[worst] = 0
        closed += len(worst)
        if objective == "fair":
            out = _fair(source, cand, caps, tol)
        else:
            out = _lex_solve(source, cand, caps, objective == "max_participation", tol)
    out.bound = bound
    out.stats["closed_mentors"] = closed
    return out
