"""Result types returned by every solver: frozen dataclasses, plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["MatchResult", "Pair", "Unmatched"]


@dataclass(frozen=True)
class Pair:
    """One mentee-mentor pair (or, for peer programmes, two peers).

    Attributes:
        mentee: Row index of the mentee in the score matrix.
        mentor: Column index of the mentor.
        score: The pair's score, 0-100.
        fixed: True when the pair was held fixed by a re-match, not chosen now.
        slot: For flash programmes, the weekly UTC hour (0-167) of the session.
    """

    mentee: int
    mentor: int
    score: float
    fixed: bool = False
    slot: int | None = None


@dataclass(frozen=True)
class Unmatched:
    """A mentee left without a mentor, and why (plain words, shown to admins)."""

    mentee: int
    reason: str


@dataclass(frozen=True)
class MatchResult:
    """What a solve returns.

    Attributes:
        mode: "assigned", "stable", "shortlist" or "peer".
        objective: The objective for "assigned", else None.
        pairs: Chosen pairs, sorted by mentee then mentor. For "shortlist", every
            entry of every list.
        unmatched: Mentees with no pair, each with a reason.
        total: Sum of the pair scores.
        bound: For "assigned" (and "peer"), a proven upper bound on the optimum
            of the full problem (see :func:`matching.solve`); else None.
        lowest: The lowest pair score, or None when nothing was matched.
        shortlists: For "shortlist", one tuple of pairs per mentee, best first.
        groups: For peer groups, the member indices of each group.
        stats: Solver diagnostics (rounds, candidate edges, ...), for logs only.
    """

    mode: str
    objective: str | None
    pairs: tuple[Pair, ...]
    unmatched: tuple[Unmatched, ...]
    total: float
    bound: float | None = None
    lowest: float | None = None
    shortlists: tuple[tuple[Pair, ...], ...] | None = None
    groups: tuple[tuple[int, ...], ...] | None = None
    stats: Mapping[str, object] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Relative distance to the bound, ``(bound - total) / bound`` (0 is optimal)."""
        if self.bound is None:
            return None
        if self.bound <= 0:
            return 0.0
        return max(0.0, (self.bound - self.total) / self.bound)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(mentees, mentors, scores)`` as numpy arrays, for vectorised checks."""
        mentees = np.fromiter((p.mentee for p in self.pairs), dtype=np.int64, count=len(self.pairs))
        mentors = np.fromiter((p.mentor for p in self.pairs), dtype=np.int64, count=len(self.pairs))
        scores = np.fromiter((p.score for p in self.pairs), dtype=float, count=len(self.pairs))
        return mentees, mentors, scores


def make_pairs(
    rows: np.ndarray, cols: np.ndarray, scores: np.ndarray, fixed: np.ndarray | None = None
) -> tuple[Pair, ...]:
    """Build sorted :class:`Pair` tuples from parallel arrays (sorted for determinism)."""
    order = np.lexsort((cols, rows))
    fx = np.zeros(len(rows), dtype=bool) if fixed is None else fixed
    return tuple(Pair(int(rows[t]), int(cols[t]), float(scores[t]), bool(fx[t])) for t in order)
