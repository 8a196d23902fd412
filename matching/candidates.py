"""Score sources and the sparse candidate graph the solvers work on.

At 20,000 x 10,000 the full score matrix is 200M pairs, so solvers never hold
it: a *source* produces score rows on demand (chunked), and the solvers keep
each mentee's top candidates plus ``outside[i]``, an upper bound on every
allowed score that was left out. The bound and the stability checks use
``outside`` to decide which rows must be looked at again in full, which keeps
them valid for the full problem, not only the pruned graph.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

__all__ = ["Candidates", "DenseSource", "ScoreSource", "SparseSource", "build_candidates"]

# Rows x mentors per scoring chunk: ~64 MB of float64, small next to the target.
CHUNK_ELEMENTS = 8_000_000
# Chunks scored at once. numpy releases the GIL in its products and passes, so
# two threads keep both cores busy; each chunk lands in its own slot, in order.
THREADS = 2

_worker = threading.local()
_blas_lock = threading.Lock()
_blas_users = 0
_blas_limit = None


def _blas_single(on: bool) -> None:
    """Hold BLAS at one thread while any chunk pool runs (reference counted).

    Our threads already use both cores; OpenBLAS's own threads on top of them
    (or on a loaded machine) spin and slow every product several times over.
    """
    global _blas_users, _blas_limit
    with _blas_lock:
        if on:
            if _blas_users == 0:
                _blas_limit = threadpool_limits(1, user_api="blas")
            _blas_users += 1
        else:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limit is not None:
                _blas_limit.restore_original_limits()
                _blas_limit = None


def map_chunks(source: ScoreSource, fn, idx: np.ndarray | None = None):
    """Yield ``fn(rows, source.rows(rows))`` chunk by chunk, in order.

    Up to ``THREADS`` chunks are computed at once in a thread pool (at most
    ``THREADS`` results wait, so memory stays a few chunks). ``source.rows``
    and ``fn`` must be safe to run in two threads at once: every source here
    only reads shared state. Called from inside a worker, it runs serially.
    Blocks come from ``source.block`` and may be read-only views.
    """
    idx = np.arange(source.n) if idx is None else np.asarray(idx, dtype=np.int64)
    step = max(1, CHUNK_ELEMENTS // max(source.m, 1))
    subs = [idx[start : start + step] for start in range(0, len(idx), step)]

    def job(sub):
        _worker.busy = True
        try:
            return fn(sub, source.block(sub))
        finally:
            _worker.busy = False

    if THREADS <= 1 or len(subs) <= 1 or getattr(_worker, "busy", False):
        for sub in subs:
            yield fn(sub, source.block(sub))
        return
    pool = ThreadPoolExecutor(THREADS, thread_name_prefix="tandem-chunks")
    _blas_single(True)
    try:
        pending: deque = deque()
        it = iter(subs)
        for sub in it:
            pending.append(pool.submit(job, sub))
            if len(pending) >= THREADS:
                break
        while pending:
            done = pending.popleft().result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(job, nxt))
            yield done
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _blas_single(False)


class ScoreSource:
    """Produces dense score rows; ``-inf`` marks a pair that may not be matched."""

    n: int
    m: int

    def rows(self, idx: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        """Return a ``(len(idx), m)`` float64 block of scores for mentees ``idx``."""
        raise NotImplementedError

    def block(self, idx: np.ndarray) -> np.ndarray:
        """As :meth:`rows`, but the result may be a read-only view (chunk readers)."""
        return self.rows(idx)

    def chunks(self, idx: np.ndarray | None = None):
        """Yield ``(row indices, block)`` over ``idx`` (default all rows) in chunks.

        The next chunks are scored in the background while one is consumed.
        """
        yield from map_chunks(self, lambda sub, block: (sub, block), idx)


class DenseSource(ScoreSource):
    """A dense score matrix with an optional forbidden mask."""

    def __init__(self, scores: np.ndarray, forbidden=None, threshold: float | None = None):
        self.scores = scores
        self.forbidden = forbidden
        self.threshold = threshold
        self.n, self.m = scores.shape

    def rows(self, idx: np.ndarray) -> np.ndarray:
        block = np.array(self.scores[idx], dtype=np.float64)
        if self.forbidden is not None:
            fb = self.forbidden[idx]
            fb = fb.toarray() if sp.issparse(fb) else fb
            block[fb] = -np.inf
        if self.threshold is not None:
            block[block < self.threshold] = -np.inf
        return block


class SparseSource(ScoreSource):
    """A CSR score matrix: pairs without a stored entry are not candidates."""

    def __init__(self, scores: sp.csr_array, forbidden=None):
        self.scores = scores
        self.forbidden = forbidden
        self.n, self.m = scores.shape

    def rows(self, idx: np.ndarray) -> np.ndarray:
        sub = self.scores[idx]
        block = np.full(sub.shape, -np.inf)
        r = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
        block[r, sub.indices] = sub.data
        if self.forbidden is not None:
            fb = self.forbidden[idx]
            fb = fb.toarray() if sp.issparse(fb) else fb
            block[fb] = -np.inf
        return block


class ThresholdSource(ScoreSource):
    """Another source with every score below ``threshold`` forbidden (fair mode)."""

    def __init__(self, base: ScoreSource, threshold: float):
        self.base = base
        self.threshold = threshold
        self.n, self.m = base.n, base.m

    def rows(self, idx: np.ndarray) -> np.ndarray:
        block = self.base.rows(idx)
        block[block < self.threshold] = -np.inf
        return block


class RowSubsetSource(ScoreSource):
    """Restrict a source to some mentees and mentors (re-matching a subset)."""

    def __init__(self, base: ScoreSource, rows: np.ndarray, cols: np.ndarray | None = None):
        self.base = base
        self.row_map = np.asarray(rows, dtype=np.int64)
        self.col_map = None if cols is None else np.asarray(cols, dtype=np.int64)
        self.n = len(self.row_map)
        self.m = base.m if cols is None else len(self.col_map)

    def rows(self, idx: np.ndarray) -> np.ndarray:
        block = self.base.rows(self.row_map[idx])
        return block if self.col_map is None else block[:, self.col_map]


@dataclass
class Candidates:
    """Sparse candidate edges, grouped by mentee, best first within a mentee.

    Attributes:
        n, m: Problem shape.
        rows, cols, score: Parallel edge arrays, sorted by (row, -score, col).
        outside: Per mentee, an upper bound on the score of any allowed pair not
            in the edge list (``-inf`` when every allowed pair is present).
    """

    n: int
    m: int
    rows: np.ndarray
    cols: np.ndarray
    score: np.ndarray
    outside: np.ndarray

    def add(self, rows: np.ndarray, cols: np.ndarray, score: np.ndarray) -> None:
        """Add edges (duplicates are dropped) and keep the canonical order."""
        r = np.concatenate([self.rows, rows])
        c = np.concatenate([self.cols, cols])
        s = np.concatenate([self.score, score])
        key = r * self.m + c
        _, first = np.unique(key, return_index=True)
        r, c, s = r[first], c[first], s[first]
        order = np.lexsort((c, -s, r))
        self.rows, self.cols, self.score = r[order], c[order], s[order]

    def indptr(self) -> np.ndarray:
        """CSR row pointer over the edge arrays."""
        return np.searchsorted(self.rows, np.arange(self.n + 1))


def top_k(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's ``k`` best allowed entries in (-score, index) order, and the rest's best.

    Returns ``(rr, cc, vals, outside)``: kept entries ordered by (row, -score,
    index) and, per row, the best allowed score left out (``-inf`` if none).
    Ties at the cut keep the lowest indices, so the cut follows the (-score,
    index) order exactly, which stable matching relies on. One partition per
    row finds the (k+1)-th value; only the entries at or above it are sorted.
    """
    n_rows, m = block.shape
    floor = np.finfo(block.dtype).min  # keeps every allowed (finite) entry
    if k >= m:
        thr = np.full((n_rows, 1), floor, dtype=block.dtype)
    else:
        # Ascending, position m-1-k holds the (k+1)-th largest value.
        part = np.partition(block, m - 1 - k, axis=1)
        thr = np.maximum(part[:, m - 1 - k : m - k], floor)
    # Flat positions (one fast 1-D scan) rather than a 2-D nonzero.
    flat = np.flatnonzero(block >= thr)
    rr = flat // m
    cc = flat - rr * m
    vals = block.reshape(-1)[flat]
    # Stable: within a row and score, mentor indices stay ascending.
    order = np.lexsort((-vals, rr))
    rr, cc, vals = rr[order], cc[order], vals[order]
    rank = np.arange(len(rr)) - np.searchsorted(rr, rr)
    outside = np.full(n_rows, -np.inf)
    nxt = rank == k
    outside[rr[nxt]] = vals[nxt]
    keep = rank < k
    return rr[keep], cc[keep], vals[keep], outside


def build_candidates(source: ScoreSource, k: int | None, cache: np.ndarray | None = None):
    """Keep each mentee's ``k`` best allowed mentors (all when ``k`` is None or >= m).

    Ties at the cut are broken by mentor index so the result is deterministic.
    If ``cache`` (an ``(n, m)`` array) is given, every scored row is also stored
    there, so one chunked pass both scores and selects.
    """
    n, m = source.n, source.m
    k = m if k is None else k
    rows_l, cols_l, score_l = [], [], []
    outside = np.full(n, -np.inf)

    def select(idx, block):  # runs in a worker thread: writes only its own rows
        if cache is not None:
            cache[idx] = block
        rr, cc, vals, out = top_k(block, k)
        return idx, idx[rr], cc.astype(np.int64), vals.astype(np.float64), out

    for idx, r, c, s, out in map_chunks(source, select):
        outside[idx] = out
        rows_l.append(r)
        cols_l.append(c)
        score_l.append(s)
    if not rows_l:
        return Candidates(n, m, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), outside)
    # Chunks come in row order and each is in (row, -score, col) order already.
    r, c, s = np.concatenate(rows_l), np.concatenate(cols_l), np.concatenate(score_l)
    return Candidates(n, m, r, c, s, outside)


class CachedSource(ScoreSource):
    """Rows held in memory (float32), filled by one scoring pass.

    Pricing and stable matching re-read rows; for a questionnaire that means
    re-scoring. Holding 20,000 x 10,000 scores as float32 costs 800 MB, well
    within budget, and turns those re-reads into slices. Pass the array as
    ``cache`` to :func:`build_candidates` to fill it during candidate selection.
    """

    def __init__(self, base: ScoreSource, fill: bool = True):
        self.base = base
        self.n, self.m = base.n, base.m
        self.cache = np.empty((self.n, self.m), dtype=np.float32)
        if fill:
            for idx, block in base.chunks():
                self.cache[idx] = block

    def rows(self, idx: np.ndarray) -> np.ndarray:
        return self.cache[idx]

    def block(self, idx: np.ndarray) -> np.ndarray:
        """A consecutive run of rows comes as a read-only view, not a copy."""
        idx = np.asarray(idx, dtype=np.int64)
        if len(idx) and idx[-1] - idx[0] == len(idx) - 1 and (np.diff(idx) == 1).all():
            view = self.cache[idx[0] : idx[-1] + 1]
            view.flags.writeable = False
            return view
        return self.cache[idx]


def source_for(scores, forbidden) -> ScoreSource:
    """Wrap a checked dense or sparse score matrix as a :class:`ScoreSource`."""
    if sp.issparse(scores):
        return SparseSource(scores, forbidden)
    return DenseSource(scores, forbidden)
