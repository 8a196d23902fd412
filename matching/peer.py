"""Peer programmes: one pool, pairs by maximum-weight matching in a general graph.

Pairs are found exactly on each person's top candidates by an integer program
(HiGHS through :func:`scipy.optimize.milp`; the degree constraints alone admit
odd-cycle fractions, so the integrality is what makes it a matching). The bound
is the LP relaxation's dual, extended to left-out pairs with ``outside / 2``.
Groups of more than two are built greedily and improved by swaps (a heuristic).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from .candidates import Candidates

__all__ = ["peer_groups", "peer_pairs"]


def _edges(cand: Candidates) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected candidate edges (i < j), each once, with positive score."""
    a = np.minimum(cand.rows, cand.cols)
    b = np.maximum(cand.rows, cand.cols)
    ok = (a != b) & (cand.score > 0)
    key = a[ok] * cand.n + b[ok]
    _, first = np.unique(key, return_index=True)
    return a[ok][first], b[ok][first], cand.score[ok][first]


def peer_pairs(cand: Candidates) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Maximum-weight matching on the candidate graph of a symmetric pool.

    Returns:
        ``(a, b, score, bound)`` for the chosen pairs and an upper bound on the
        best matching over all allowed pairs.
    """
    n = cand.n
    a, b, w = _edges(cand)
    if len(a) == 0:
        return a, b, w, 0.0
    e = np.arange(len(a))
    inc = sp.csr_array(
        (np.ones(2 * len(a)), (np.concatenate([a, b]), np.concatenate([e, e]))), shape=(n, len(a))
    )
    cons = LinearConstraint(inc, -np.inf, 1)
    res = milp(-w, constraints=cons, integrality=np.ones(len(a)), bounds=Bounds(0, 1))
    x = res.x > 0.5
    # Bound: LP relaxation dual y (a fractional vertex cover), which covers the
    # candidate edges; left-out edges are covered by outside/2 at both ends.
    # No upper bound on x (degree rows imply it), so the whole dual sits on the rows.
    lp = linprog(-w, A_ub=inc, b_ub=np.ones(n), bounds=(0, None), method="highs")
    y = -lp.ineqlin.marginals
    cover = np.maximum(y, np.where(np.isfinite(cand.outside), cand.outside / 2, 0.0))
    bound = float(np.maximum(cover, 0).sum())
    return a[x], b[x], w[x], bound


def peer_groups(scores: np.ndarray, size: int, allowed: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """Split a pool into groups of ``size`` (a remainder joins the best-fitting groups).

    Greedy: the lowest-index person not yet placed seeds a group, which adds the
    person with the highest average score to its members until full; then (pools up
    to 300) one improving pass of member swaps between groups. Pairs that are not allowed
    count as a very low score, so they are avoided where possible.
    """
    n = scores.shape[0]
    s = np.where(allowed, scores, -1e6)
    np.fill_diagonal(s, 0)
    placed = np.zeros(n, dtype=bool)
    groups: list[list[int]] = []
    n_full = n // size
    for _ in range(n_full):
        seed = int(np.argmin(placed))
        members = [seed]
        placed[seed] = True
        while len(members) < size:
            fit = s[members].mean(axis=0)
            fit[placed] = -np.inf
            nxt = int(np.argmax(fit))
            members.append(nxt)
            placed[nxt] = True
        groups.append(members)
    for rest in np.nonzero(~placed)[0]:
        if not groups:
            groups.append([int(rest)])
            continue
        fits = [s[g, rest].mean() for g in groups]
        groups[int(np.argmax(fits))].append(int(rest))

    def value(g: list[int]) -> float:
        return float(s[np.ix_(g, g)].sum() / 2)

    # One swap pass is O(groups^2 * size^2): only worth it for modest pools.
    for gi in range(len(groups) if n <= 300 else 0):
        for gj in range(gi + 1, len(groups)):
            for x in list(groups[gi]):
                for y in list(groups[gj]):
                    g1 = [y if p == x else p for p in groups[gi]]
                    g2 = [x if p == y else p for p in groups[gj]]
                    if value(g1) + value(g2) > value(groups[gi]) + value(groups[gj]) + 1e-9:
                        groups[gi], groups[gj] = g1, g2
                        break
    return tuple(tuple(sorted(g)) for g in groups)
