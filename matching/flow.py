"""Maximum-weight bipartite b-matching by min-cost flow, and its dual prices.

The primal is solved by OR-Tools' SimpleMinCostFlow on the sparse candidate
graph (integer costs). The dual is recovered afterwards: mentor prices ``v``
are the least solution of the complementary-slackness difference constraints,
found by a vectorised Bellman-Ford that only relaxes edges out of mentors whose
price changed. Any ``v >= 0`` gives a valid upper bound, so the bound never
depends on the solver being right; exact prices only make it tight.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from .errors import MatchingError

__all__ = ["bmatching", "mentor_prices"]


def bmatching(
    n: int,
    m: int,
    rows: np.ndarray,
    cols: np.ndarray,
    weight: np.ndarray,
    row_cap: np.ndarray,
    col_cap: np.ndarray,
) -> np.ndarray:
    """Choose edges maximising total integer ``weight`` under degree capacities.

    Args:
        n, m: Number of mentees and mentors.
        rows, cols: Edge end points (mentee, mentor).
        weight: Non-negative int64 edge weights; zero-weight edges may be left out.
        row_cap: Per-mentee degree limit (1 for a matching, k for shortlists).
        col_cap: Per-mentor degree limit (capacity).

    Returns:
        A boolean mask over the edges: True where the edge is chosen.

    Raises:
        MatchingError: if OR-Tools reports anything but an optimal solution.
    """
    if len(rows) == 0:
        return np.zeros(0, dtype=bool)
    src, sink = n + m, n + m + 1
    supply = int(np.minimum(row_cap, m).sum())
    smcf = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([np.full(n, src), rows, n + np.arange(m), [src]])
    heads = np.concatenate([np.arange(n), n + cols, np.full(m, sink), [sink]])
    caps = np.concatenate([row_cap, np.ones(len(rows), np.int64), col_cap, [supply]])
    costs = np.concatenate([np.zeros(n, np.int64), -weight, np.zeros(m + 1, np.int64)])
    smcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64), costs
    )
    supplies = np.zeros(n + m + 2, dtype=np.int64)
    supplies[src], supplies[sink] = supply, -supply
    smcf.set_nodes_supplies(np.arange(n + m + 2, dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise MatchingError(f"min-cost flow did not reach an optimum (status {status})")
    edge_arcs = np.arange(n, n + len(rows), dtype=np.int32)
    return smcf.flows(edge_arcs) > 0


def mentor_prices(
    n: int,
    m: int,
    rows: np.ndarray,
    cols: np.ndarray,
    weight: np.ndarray,
    chosen: np.ndarray,
    max_rounds: int | None = None,
) -> tuple[np.ndarray, bool]:
    """Least mentor prices consistent with an optimal one-to-b matching.

    Prices satisfy, for every candidate edge (i, j): ``u_i + v_j >= w_ij`` with
    ``u_i = w_i,m(i) - v_m(i)`` for matched mentees and ``u_i = 0`` otherwise.
    That is a system of difference constraints between mentors; its least
    solution is a longest-path problem without positive cycles when the
    matching is optimal, solved by frontier Bellman-Ford.

    Returns:
        ``(v, converged)``: int64 prices (>= 0) and whether the iteration settled.
    """
    v = np.zeros(m, dtype=np.int64)
    if len(rows) == 0:
        return v, True
    match_col = np.full(n, -1, dtype=np.int64)
    match_w = np.zeros(n, dtype=np.int64)
    match_col[rows[chosen]] = cols[chosen]
    match_w[rows[chosen]] = weight[chosen]
    free_row = match_col[rows] < 0
    # Unmatched mentees: u_i = 0, so v_j >= w_ij.
    np.maximum.at(v, cols[free_row], weight[free_row])
    # Matched mentees: v_j >= v_m(i) + w_ij - w_i,m(i), an edge m(i) -> j.
    keep = ~free_row & ~chosen
    e_src = match_col[rows[keep]]
    e_dst = cols[keep]
    e_w = weight[keep] - match_w[rows[keep]]
    order = np.argsort(e_src, kind="stable")
    e_src, e_dst, e_w = e_src[order], e_dst[order], e_w[order]
    ptr = np.searchsorted(e_src, np.arange(m + 1))
    frontier = np.unique(e_src)
    rounds = 0
    limit = (m + 2) if max_rounds is None else max_rounds
    while frontier.size:
        if rounds >= limit:
            return v, False
        rounds += 1
        starts, ends = ptr[frontier], ptr[frontier + 1]
        lens = ends - starts
        total = int(lens.sum())
        if total == 0:
            break
        # Gather the edge ranges of all frontier mentors in one vectorised step.
        offs = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(total)
        cand = v[e_src[offs]] + e_w[offs]
        dst = e_dst[offs]
        better = cand > v[dst]
        if not better.any():
            break
        dst, cand = dst[better], cand[better]
        np.maximum.at(v, dst, cand)
        frontier = np.unique(dst)
    return v, True
