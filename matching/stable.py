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

from .candidates import Candidates, ScoreSource, top_k

__all__ = ["StableOutcome", "blocking_pairs", "deferred_acceptance"]


@dataclass
class StableOutcome:
    """Matched edges of a stable solve plus diagnostics."""

    rows: np.ndarray
    cols: np.ndarray
    score: np.ndarray
    stats: dict = field(default_factory=dict)


SEQUENTIAL_BELOW = 48  # fewer active proposers than this: one proposal at a time
EXTEND_MIN = 256  # entries fetched per exhausted list, at least (each fetch costs ~0.3 ms)


class _Lists:
    """Mentees' proposal lists: a flat array of segments, extended lazily.

    Each list is a prefix of the mentee's full (-preference, index) order over
    allowed mentors; when a mentee exhausts it, the next ``k`` entries are
    fetched (a chunked, vectorised pass over just those rows).
    """

    def __init__(self, pref_source, score_source, cand: Candidates, k: int):
        self.pref, self.score_src = pref_source, score_source
        self.same = score_source is pref_source
        self.k = k
        ptr = cand.indptr()
        self.start, self.end = ptr[:-1].copy(), ptr[1:].copy()
        self.nxt = self.start.copy()
        # Growable flat arrays (capacity doubles), valid up to self.size.
        self.size = len(cand.cols)
        self.flat = cand.cols.copy()
        self.flat_p = cand.score.copy()
        self.flat_s = self.flat_p if self.same else _pair_values(score_source, cand.rows, cand.cols)
        self.done = ~np.isfinite(cand.outside)  # nothing left out of the list
        # The last listed entry per mentee, where the next segment starts after.
        n = cand.n
        self.last_p = np.full(n, np.inf)
        self.last_c = np.full(n, -1, dtype=np.int64)
        has = self.end > self.start
        self.last_p[has] = cand.score[self.end[has] - 1]
        self.last_c[has] = cand.cols[self.end[has] - 1]
        self.fetched = 0

    def _append(self, cols, pref, score) -> None:
        need = self.size + len(cols)
        if need > len(self.flat):
            cap = max(need, 2 * len(self.flat), 1024)
            grow = lambda a: np.concatenate([a[: self.size], np.empty(cap - self.size, a.dtype)])  # noqa: E731
            self.flat, self.flat_p = grow(self.flat), grow(self.flat_p)
            self.flat_s = self.flat_p if self.same else grow(self.flat_s)
        end = self.size + len(cols)
        self.flat[self.size : end] = cols
        self.flat_p[self.size : end] = pref
        if not self.same:
            self.flat_s[self.size : end] = score
        self.size = end

    def extend(self, out: np.ndarray) -> None:
        """Give exhausted mentees ``out`` (not yet complete) their next entries."""
        self.fetched += len(out)
        base = self.size
        lens = np.zeros(len(out), np.int64)
        pos = 0
        for idx, block in self.pref.chunks(out):
            block = np.array(block, dtype=np.float64)
            sblock = block if self.same else np.asarray(self.score_src.rows(idx), np.float64)
            if not self.same:
                block[~np.isfinite(sblock)] = -np.inf
            # Drop everything at or before the last listed entry in (-pref, index) order.
            lp, lc = self.last_p[idx][:, None], self.last_c[idx][:, None]
            cols = np.arange(block.shape[1])[None, :]
            block[(block > lp) | ((block == lp) & (cols <= lc))] = -np.inf
            rr, cc, vals, outside = top_k(block, self.k)
            self.done[idx[~np.isfinite(outside)]] = True
            cnt = np.bincount(rr, minlength=len(idx))
            lens[pos : pos + len(idx)] = cnt
            pos += len(idx)
            self._append(cc, vals, vals if self.same else sblock[rr, cc])
            last = np.cumsum(cnt) - 1
            got = cnt > 0
            self.last_p[idx[got]] = vals[last[got]]
            self.last_c[idx[got]] = cc[last[got]]
        offs = base + np.concatenate([[0], np.cumsum(lens)[:-1]])
        self.start[out], self.nxt[out], self.end[out] = offs, offs, offs + lens


def deferred_acceptance(
    pref_source: ScoreSource,
    score_source: ScoreSource,
    cand: Candidates,
    caps: np.ndarray,
) -> StableOutcome:
    """Run mentee-proposing deferred acceptance.

    Rounds are vectorised while many mentees are free (every free mentee
    proposes at once and only mentors receiving offers are re-ranked); the long
    tail of single rejection chains runs one proposal at a time. Both give the
    unique mentee-optimal stable matching (preferences are strict once ties are
    broken by index).

    Args:
        pref_source: Mentees' preference scores (higher first; ties by mentor index).
        score_source: Pair scores; mentors rank mentees by them (ties by mentee
            index) and they are the scores reported. May be ``pref_source``.
        cand: Each mentee's best mentors by ``pref_source``, with ``outside``.
        caps: Mentor capacities.

    Returns:
        The matched pairs of the mentee-optimal stable matching.
    """
    n, m = cand.n, cand.m
    # Extensions fetch a few times the initial list length: fetching is the cost.
    k = max(EXTEND_MIN, 2 * int(np.diff(cand.indptr()).max(initial=0)))
    lists = _Lists(pref_source, score_source, cand, k)
    width = max(1, int(caps.max(initial=0)))
    hold_i = np.full((m, width), -1, dtype=np.int64)
    hold_s = np.full((m, width), -np.inf)
    count = np.zeros(m, dtype=np.int64)
    free = np.arange(n)
    rounds = 0
    while free.size:
        out = free[(lists.nxt[free] >= lists.end[free]) & ~lists.done[free]]
        if out.size:
            lists.extend(out)
        active = free[lists.nxt[free] < lists.end[free]]
        if active.size == 0:
            break
        if active.size < SEQUENTIAL_BELOW:
            rounds += _sequential(lists, active, caps, hold_i, hold_s, count)
            break
        rounds += 1
        at = lists.nxt[active]
        prop_j, prop_s = lists.flat[at], lists.flat_s[at]
        lists.nxt[active] += 1
        # Only mentors receiving offers: their held mentees plus the new offers.
        uj = np.unique(prop_j)
        hi, hs = hold_i[uj], hold_s[uj]
        valid = hi >= 0
        all_i = np.concatenate([hi[valid], active])
        all_j = np.concatenate([np.broadcast_to(uj[:, None], hi.shape)[valid], prop_j])
        all_s = np.concatenate([hs[valid], prop_s])
        order = np.lexsort((all_i, -all_s, all_j))  # mentor, score desc, mentee asc
        all_i, all_j, all_s = all_i[order], all_j[order], all_s[order]
        rank = np.arange(len(all_j)) - np.searchsorted(all_j, all_j)
        keep = rank < caps[all_j]
        hold_i[uj], hold_s[uj] = -1, -np.inf
        kj, kr = all_j[keep], rank[keep]
        hold_i[kj, kr], hold_s[kj, kr] = all_i[keep], all_s[keep]
        count[uj] = np.bincount(kj, minlength=m)[uj]
        free = np.sort(all_i[~keep])
    valid = hold_i >= 0
    rows = hold_i[valid]
    cols = np.broadcast_to(np.arange(m)[:, None], hold_i.shape)[valid]
    score = hold_s[valid]
    order = np.argsort(rows, kind="stable")
    stats = {
        "rounds": rounds,
        "fetched_rows": int(lists.fetched),
        "candidate_edges": len(cand.rows),
    }
    return StableOutcome(rows[order], cols[order], score[order], stats)


def _sequential(lists: _Lists, active, caps, hold_i, hold_s, count) -> int:
    """Finish deferred acceptance one proposal at a time; returns proposals made."""
    proposals = 0
    stack = [int(i) for i in active[::-1]]
    while stack:
        i = stack.pop()
        while True:
            if lists.nxt[i] >= lists.end[i]:
                if lists.done[i]:
                    break  # nobody left to propose to: stays unmatched
                lists.extend(np.array([i]))
                continue
            at = lists.nxt[i]
            j, s = int(lists.flat[at]), float(lists.flat_s[at])
            lists.nxt[i] += 1
            proposals += 1
            c = int(count[j])
            if c < caps[j]:
                hold_i[j, c], hold_s[j, c] = i, s
                count[j] = c + 1
                break
            if c == 0:
                continue  # capacity 0
            # The mentor's worst held mentee: lowest score, then highest index.
            slot = min(range(c), key=lambda t: (hold_s[j, t], -hold_i[j, t]))
            ws, wi = float(hold_s[j, slot]), int(hold_i[j, slot])
            if (s, -i) > (ws, -wi):
                hold_i[j, slot], hold_s[j, slot] = i, s
                i = wi  # the bumped mentee proposes on
    return proposals


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
    """Scores of specific pairs, fetched row-chunk by row-chunk (each row scored once)."""
    out = np.empty(len(rows))
    uniq, inv = np.unique(rows, return_inverse=True)
    order = np.argsort(inv, kind="stable")  # pairs grouped by their row's position in uniq
    bounds = np.searchsorted(inv[order], np.arange(len(uniq) + 1))
    pos = 0
    for idx, block in source.chunks(uniq):
        sel = order[bounds[pos] : bounds[pos + len(idx)]]
        out[sel] = block[inv[sel] - pos, cols[sel]]
        pos += len(idx)
    return out
