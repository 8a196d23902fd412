"""``stable`` mode: mentee-proposing deferred acceptance with mentor capacities.

Rounds are vectorised (every free mentee proposes at once; each mentor keeps
its best ``capacity`` offers), which yields the same mentee-optimal stable
matching as the sequential algorithm. Mentees propose down their candidate
list; a mentee who runs out has its full row fetched, so the result is stable
against every allowed pair, not only the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .candidates import Candidates, ScoreSource

__all__ = ["StableOutcome", "blocking_pairs", "deferred_acceptance"]


@dataclass
class StableOutcome:
    """Matched edges of a stable solve plus diagnostics."""

    rows: np.ndarray
    cols: np.ndarray
    score: np.ndarray
    stats: dict = field(default_factory=dict)


def deferred_acceptance(
    pref_source: ScoreSource,
    score_source: ScoreSource,
    cand: Candidates,
    caps: np.ndarray,
) -> StableOutcome:
    """Run mentee-proposing deferred acceptance.

    Args:
        pref_source: Mentees' preference scores (higher first; ties by mentor index).
        score_source: Pair scores; mentors rank mentees by them (ties by mentee
            index) and they are the scores reported. May be ``pref_source``.
        cand: Each mentee's best mentors by ``pref_source``, with ``outside``.
        caps: Mentor capacities.

    Returns:
        The matched pairs of the mentee-optimal stable matching.
    """
    n = cand.n
    # Per-mentee proposal lists as Python-free arrays: a flat list plus pointers.
    same = score_source is pref_source
    ptr0 = cand.indptr()
    start, end = ptr0[:-1].copy(), ptr0[1:].copy()
    nxt = start.copy()
    flat = cand.cols
    flat_s = cand.score if same else _pair_values(score_source, cand.rows, cand.cols)
    expanded = ~np.isfinite(cand.outside)  # nothing left out: no need to fetch
    held_i = np.zeros(0, np.int64)
    held_j = np.zeros(0, np.int64)
    held_s = np.zeros(0)
    free = np.arange(n)
    rounds = fetched = 0
    while True:
        # Mentees who ran out of candidates but had pairs left out: fetch full rows.
        out = free[(nxt[free] >= end[free]) & ~expanded[free]]
        if out.size:
            fetched += out.size
            expanded[out] = True
            extra_c, extra_s = [], []
            for idx, block in pref_source.chunks(out):
                sblock = block if same else score_source.rows(idx)
                for t, i in enumerate(idx):
                    row = block[t]
                    allowed = np.nonzero(np.isfinite(row) & np.isfinite(sblock[t]))[0]
                    order = allowed[np.lexsort((allowed, -row[allowed]))]
                    # Keep the true preference order, minus mentors already proposed to.
                    order = order[~np.isin(order, flat[start[i] : end[i]])]
                    extra_c.append(order)
                    extra_s.append(sblock[t, order])
            base = len(flat)
            lens = np.array([len(c) for c in extra_c], dtype=np.int64)
            flat = np.concatenate([flat, *extra_c])
            flat_s = np.concatenate([flat_s, *extra_s])
            offs = base + np.concatenate([[0], np.cumsum(lens)[:-1]])
            start[out], nxt[out], end[out] = offs, offs, offs + lens
        active = free[nxt[free] < end[free]]
        if active.size == 0:
            break
        rounds += 1
        prop_j = flat[nxt[active]]
        prop_s = flat_s[nxt[active]]
        nxt[active] += 1
        all_i = np.concatenate([held_i, active])
        all_j = np.concatenate([held_j, prop_j])
        all_s = np.concatenate([held_s, prop_s])
        # Each mentor keeps its best offers: order by mentor, score desc, mentee asc.
        order = np.lexsort((all_i, -all_s, all_j))
        all_i, all_j, all_s = all_i[order], all_j[order], all_s[order]
        first = np.searchsorted(all_j, all_j, side="left")
        rank = np.arange(len(all_j)) - first
        keep = rank < caps[all_j]
        held_i, held_j, held_s = all_i[keep], all_j[keep], all_s[keep]
        free = np.sort(all_i[~keep])
    order = np.argsort(held_i, kind="stable")
    stats = {"rounds": rounds, "fetched_rows": int(fetched), "candidate_edges": len(cand.rows)}
    return StableOutcome(held_i[order], held_j[order], held_s[order], stats)


def blocking_pairs(
    source: ScoreSource,
    caps: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    pref_source: ScoreSource | None = None,
    limit: int | None = None,
) -> np.ndarray:
    """Return the blocking pairs of a matching, checked against every allowed pair.

    A pair (i, j) blocks when mentee i prefers j to its partner (or has none)
    and mentor j has a free place or prefers i to its worst mentee. Ties are
    broken by index, as in :func:`deferred_acceptance`.

    Args:
        source: Mentor-side scores (and pair scores), ``-inf`` where not allowed.
        caps: Mentor capacities.
        rows, cols: The matched pairs.
        pref_source: Mentee-side preferences; defaults to ``source``.
        limit: Stop after this many blocking pairs (None: find all).

    Returns:
        An ``(b, 2)`` int64 array of blocking (mentee, mentor) pairs.
    """
    pref_source = source if pref_source is None else pref_source
    n, m = source.n, source.m
    partner = np.full(n, -1, dtype=np.int64)
    partner[rows] = cols
    loads = np.bincount(cols, minlength=m)
    # Each mentor's worst held mentee, as (score, index); free places accept anyone.
    worst_s = np.full(m, np.inf)
    worst_i = np.full(m, -1, dtype=np.int64)
    if len(rows):
        ms = _pair_values(source, rows, cols)
        order = np.lexsort((-rows, ms, cols))  # per mentor: lowest score, then highest index
        c_sorted = cols[order]
        firsts = np.unique(c_sorted, return_index=True)[1]
        worst_s[c_sorted[firsts]] = ms[order][firsts]
        worst_i[c_sorted[firsts]] = rows[order][firsts]
    open_place = loads < caps
    found = []
    for idx, block in source.chunks():
        # Scoring a chunk can be the costly part: reuse it when both sides agree.
        pblock = block if pref_source is source else pref_source.rows(idx)
        p = partner[idx]
        has = p >= 0
        mine = np.full(len(idx), -np.inf)
        mine[has] = pblock[np.nonzero(has)[0], p[has]]
        j = np.arange(m)[None, :]
        better_for_mentee = (pblock > mine[:, None]) | (
            (pblock == mine[:, None]) & (j < p[:, None]) & has[:, None]
        )
        better_for_mentee &= np.isfinite(pblock) & np.isfinite(block)
        better_for_mentee &= j != p[:, None]
        ii = idx[:, None]
        mentor_wants = (
            open_place[None, :]
            | (block > worst_s[None, :])
            | ((block == worst_s[None, :]) & (ii < worst_i[None, :]))
        )
        rr, cc = np.nonzero(better_for_mentee & mentor_wants)
        if rr.size:
            found.append(np.stack([idx[rr], cc], axis=1))
            if limit is not None and sum(len(f) for f in found) >= limit:
                break
    return np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)


def _pair_values(source: ScoreSource, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Scores of specific pairs, fetched row-chunk by row-chunk."""
    out = np.empty(len(rows))
    uniq, inv = np.unique(rows, return_inverse=True)
    pos = 0
    for idx, block in source.chunks(uniq):
        sel = (inv >= pos) & (inv < pos + len(idx))
        out[sel] = block[inv[sel] - pos, cols[sel]]
        pos += len(idx)
    return out
