"""``shortlist`` mode: k mentors per mentee, spread by what mentors can honour.

Each mentor may appear on at most ``ceil(spread * c_j * k * n / C)`` lists
(``C`` total capacity), so a popular mentor is not offered to far more mentees
than its capacity could serve. Lists are chosen jointly by a b-matching that
first fills as many list places as possible, then maximises total score.
"""

from __future__ import annotations

import numpy as np

from .assign import SCALE
from .candidates import Candidates, ScoreSource
from .flow import bmatching

__all__ = ["appearance_caps", "solve_shortlist"]


def appearance_caps(caps: np.ndarray, n: int, k: int, spread: float) -> np.ndarray:
    """How many lists each mentor may appear on (0 for a mentor with no capacity)."""
    total = int(caps.sum())
    if total == 0:
        return np.zeros_like(caps)
    share = np.ceil(spread * caps * k * n / total).astype(np.int64)
    return np.minimum(np.maximum(share, np.minimum(caps, n)), n)


def solve_shortlist(
    source: ScoreSource, cand: Candidates, caps: np.ndarray, k: int, spread: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Return list entries ``(rows, cols, scores)`` and diagnostics."""
    n, m = cand.n, cand.m
    col_cap = appearance_caps(caps, n, k, spread)
    row_cap = np.full(n, k, dtype=np.int64)
    big = 100 * SCALE * k + 1  # one more list place beats any score difference in a row
    fetched = 0
    for attempt in range(2):
        w = np.rint(cand.score * SCALE).astype(np.int64) + big
        chosen = bmatching(n, m, cand.rows, cand.cols, w, row_cap, col_cap)
        if attempt:
            break
        # Short lists for mentees with pairs left out: bring in their full rows once.
        got = np.bincount(cand.rows[chosen], minlength=n)
        short = np.nonzero((got < np.minimum(k, m)) & np.isfinite(cand.outside))[0]
        if short.size == 0:
            break
        fetched = int(short.size)
        for idx, block in source.chunks(short):
            rr, cc = np.nonzero(np.isfinite(block))
            cand.add(idx[rr], cc, block[rr, cc])
        cand.outside[short] = -np.inf
    stats = {"appearance_caps_max": int(col_cap.max()), "fetched_rows": fetched}
    return cand.rows[chosen], cand.cols[chosen], cand.score[chosen], stats
