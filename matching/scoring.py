"""Encode members' answers into arrays and score mentee x mentor blocks, vectorised.

Each scored rule gives a similarity in [0, 1] per pair; a pair's score is
``100 * sum(w * sim) / sum(w)``. A hard rule (weight 10) also excludes every
pair that fails it. Missing answers score 0 and fail hard rules.

Availability answers are ``{"utc_offset": hours, "slots": [[day, hour], ...]}``
with day 0 = Monday and hour 0-23 in the member's local time; the programmes
layer turns IANA zone names into offsets (this library does no IO).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .candidates import ScoreSource
from .errors import AnswerError
from .questionnaire import Question, Questionnaire, Rule

__all__ = ["Encoded", "Scorer", "encode"]

WEEK = 168
# Pairs per inner block of score_block: its two float32 buffers (4 MB each)
# stay in cache across the elementwise passes; smaller blocks slow the products.
SUB_ELEMENTS = 1 << 20


@dataclass
class Encoded:
    """Answers of one side as arrays, keyed by question id.

    tags/languages: bool (people, vocabulary); choice: int codes (-1 missing);
    scale: float (NaN missing); availability: bool (people, 168) in UTC plus
    ``tz`` offsets (NaN missing); text: list of str.
    """

    n: int
    arrays: dict[str, np.ndarray]
    tz: dict[str, np.ndarray]
    texts: dict[str, list[str]]


def _vocab(q: Question, people: Sequence[Mapping[str, Any]], *more) -> tuple[str, ...]:
    if q.kind != "languages":
        return q.options
    seen: set[str] = set()
    for group in (people, *more):
        for p in group:
            v = p.get(q.id)
            if isinstance(v, list | tuple):
                seen.update(x for x in v if isinstance(x, str))
    return tuple(sorted(seen))


def encode(
    questionnaire: Questionnaire,
    people: Sequence[Mapping[str, Any]],
    side: str,
    vocab: Mapping[str, tuple[str, ...]],
) -> Encoded:
    """Encode a list of answer dicts.

    Args:
        questionnaire: The parsed questionnaire.
        people: One mapping per person, question id -> answer (missing allowed).
        side: "mentee" or "mentor", used in error messages.
        vocab: Per tags/languages question, the option list to encode over.

    Raises:
        AnswerError: an answer of the wrong type or an unknown option, naming the
            person, the question and what was expected.
    """
    n = len(people)
    arrays: dict[str, np.ndarray] = {}
    tz: dict[str, np.ndarray] = {}
    texts: dict[str, list[str]] = {}
    for p_no, p in enumerate(people):
        if not isinstance(p, Mapping):
            raise AnswerError(f"{side} {p_no}: answers must be a mapping; got {type(p).__name__}")
        unknown = set(p) - {q.id for q in questionnaire.questions}
        if unknown:
            raise AnswerError(f"{side} {p_no}: answers to unknown question(s) {sorted(unknown)}")
    for q in questionnaire.questions:
        where = f"question {q.id!r}"
        if q.kind in ("tags", "languages"):
            opts = vocab[q.id]
            index = {o: t for t, o in enumerate(opts)}
            arr = np.zeros((n, len(opts)), dtype=bool)
            for p_no, p in enumerate(people):
                v = p.get(q.id)
                if v is None:
                    continue
                if isinstance(v, str) or not isinstance(v, list | tuple):
                    raise AnswerError(
                        f"{side} {p_no}, {where}: need a list of options; got {type(v).__name__}"
                    )
                for x in v:
                    if x not in index:
                        raise AnswerError(
                            f"{side} {p_no}, {where}: {x!r} is not one of the options {opts}"
                        )
                    arr[p_no, index[x]] = True
            arrays[q.id] = arr
        elif q.kind == "choice":
            index = {o: t for t, o in enumerate(q.options)}
            arr = np.full(n, -1, dtype=np.int64)
            for p_no, p in enumerate(people):
                v = p.get(q.id)
                if v is None:
                    continue
                if not isinstance(v, str) or v not in index:
                    raise AnswerError(f"{side} {p_no}, {where}: need one of {q.options}; got {v!r}")
                arr[p_no] = index[v]
            arrays[q.id] = arr
        elif q.kind == "scale":
            arr = np.full(n, np.nan)
            for p_no, p in enumerate(people):
                v = p.get(q.id)
                if v is None:
                    continue
                if (
                    isinstance(v, bool)
                    or not isinstance(v, int | float)
                    or not (q.min <= v <= q.max)
                ):
                    raise AnswerError(
                        f"{side} {p_no}, {where}: need a number {q.min:g}-{q.max:g}; got {v!r}"
                    )
                arr[p_no] = float(v)
            arrays[q.id] = arr
        elif q.kind == "availability":
            grid = np.zeros((n, WEEK), dtype=bool)
            offs = np.full(n, np.nan)
            for p_no, p in enumerate(people):
                v = p.get(q.id)
                if v is None:
                    continue
                grid[p_no], offs[p_no] = _availability(v, f"{side} {p_no}, {where}")
            arrays[q.id] = grid
            tz[q.id] = offs
        else:
            out = []
            for p_no, p in enumerate(people):
                v = p.get(q.id, "")
                if not isinstance(v, str):
                    raise AnswerError(f"{side} {p_no}, {where}: need text; got {type(v).__name__}")
                out.append(v)
            texts[q.id] = out
    return Encoded(n, arrays, tz, texts)


def _availability(v: Any, where: str) -> tuple[np.ndarray, float]:
    if not isinstance(v, Mapping) or set(v) - {"utc_offset", "slots"}:
        raise AnswerError(f"{where}: need {{'utc_offset': hours, 'slots': [[day, hour], ...]}}")
    off = v.get("utc_offset", 0)
    if isinstance(off, bool) or not isinstance(off, int | float) or not -12 <= off <= 14:
        raise AnswerError(f"{where}: utc_offset {off!r}; need hours from -12 to 14")
    grid = np.zeros(WEEK, dtype=bool)
    for slot in v.get("slots", []):
        ok = (
            isinstance(slot, list | tuple)
            and len(slot) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in slot)
            and 0 <= slot[0] <= 6
            and 0 <= slot[1] <= 23
        )
        if not ok:
            raise AnswerError(f"{where}: slot {slot!r}; need [day 0-6, hour 0-23]")
        # Local hour to UTC: subtract the offset (rounded to whole hours for the grid).
        grid[(slot[0] * 24 + slot[1] - round(off)) % WEEK] = True
    return grid, float(off)


def _dot(A: np.ndarray, B: np.ndarray, pairs: bool) -> np.ndarray:
    """``A @ B.T``, or with ``pairs`` only its diagonal (row t of A with row t of B).

    Entries are 0/1 counts, so both are exact and agree.
    """
    if not pairs:
        return A @ B.T
    return np.einsum("ij,ij->i", A, B)


class Scorer(ScoreSource):
    """Scores mentees against mentors from their answers.

    Constructor stores parameters only; :meth:`fit` encodes the answers.

    Args:
        questionnaire: Parsed :class:`Questionnaire` or its plain-data dict.
        reverse: Reverse mentoring: "at_least" then asks the mentee to be at
            least as senior as the mentor.
    """

    def __init__(self, questionnaire: Questionnaire | Mapping[str, Any], *, reverse: bool = False):
        self.questionnaire = questionnaire
        self.reverse = reverse

    def fit(
        self, mentees: Sequence[Mapping[str, Any]], mentors: Sequence[Mapping[str, Any]]
    ) -> Scorer:
        """Validate and encode both sides' answers.

        Raises:
            QuestionnaireError: a malformed questionnaire dict.
            AnswerError: answers of the wrong type (naming person and question).
        """
        q = self.questionnaire
        self.questionnaire_ = q if isinstance(q, Questionnaire) else Questionnaire.from_dict(q)
        qn = self.questionnaire_
        vocab = {}
        for question in qn.questions:
            if question.kind in ("tags", "languages"):
                vocab[question.id] = _vocab(question, mentees, mentors)
        # Complement compares two tag questions by option text: one shared vocabulary.
        self.maps_: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self.mentees_ = encode(qn, mentees, "mentee", vocab)
        self.mentors_ = encode(qn, mentors, "mentor", vocab)
        for r in qn.scored_rules:
            if r.rule == "complement":
                a, b = vocab[r.question], vocab[r.against]
                union = sorted(set(a) | set(b))
                pos = {o: t for t, o in enumerate(union)}
                self.maps_[(r.question, r.against)] = (
                    np.array([pos[o] for o in a], dtype=np.int64),
                    np.array([pos[o] for o in b], dtype=np.int64),
                )
        self.vocab_ = vocab
        self.n, self.m = self.mentees_.n, self.mentors_.n
        self.total_weight_ = float(sum(r.weight for r in qn.scored_rules))
        # Scalar rules (choice, scale, timezone) take few distinct values: score
        # every value pair once, then gather per block (one pass, not ten).
        self.tables_: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        for t, r in enumerate(qn.scored_rules):
            if qn.question(r.question).kind in ("choice", "scale") or r.rule == "timezone":
                va, vb = self._scalar(r, self.mentees_), self._scalar(r, self.mentors_)
                ua, ca = np.unique(va, return_inverse=True, equal_nan=False)
                ub, cb = np.unique(vb, return_inverse=True, equal_nan=False)
                sim, passes = self._scalar_sim(r, ua[:, None], ub[None, :])
                self.tables_[t] = (
                    ca.astype(np.intp),
                    cb.astype(np.intp),
                    sim.astype(np.float32),
                    passes,
                )
        # Set-valued answers as float32 once, so scoring a chunk converts nothing.
        self.f32_a_: dict[str, np.ndarray] = {}
        self.f32_b_: dict[str, np.ndarray] = {}
        for r in qn.scored_rules:
            if qn.question(r.question).kind in ("tags", "languages", "availability"):
                qa, qb = r.question, r.mentor_question
                self.f32_a_[qa] = self.mentees_.arrays[qa].astype(np.float32)
                self.f32_b_[qb] = self.mentors_.arrays[qb].astype(np.float32)
        self._build_linear()
        if hasattr(self, "side_"):
            del self.side_  # a re-fit: recompute
        self.side_ = self._mentor_side(None)
        return self

    def _build_linear(self) -> None:
        """Fold every rule whose weighted score is bilinear into one matrix product.

        A table rule contributes ``w * T[ca_i, cb_j] = (w * T[ca_i]) . onehot(cb_j)``;
        a complement rule contributes ``w * |A_i & B_j| / |A_i| = (w * A_i / |A_i|) . B_j``.
        Stacking these features side by side gives all of them in one sgemm
        whose inner size is small, instead of several full passes per rule.
        """
        scale = 100.0 / self.total_weight_ if self.total_weight_ > 0 else 0.0
        fa, fb = [np.zeros((self.n, 0), np.float32)], [np.zeros((self.m, 0), np.float32)]
        self.nonlinear_: set[int] = set()
        for t, r in enumerate(self.questionnaire_.scored_rules):
            w = np.float32(r.weight * scale)
            if t in self.tables_:
                ca, cb, sim_t, _ = self.tables_[t]
                fa.append(w * sim_t[ca])
                fb.append(np.eye(sim_t.shape[1], dtype=np.float32)[cb])
            elif r.rule == "complement":
                ma, mb = self.maps_[(r.question, r.against)]
                width = int(max(ma.max(initial=-1), mb.max(initial=-1))) + 1
                a = np.zeros((self.n, width), np.float32)
                b = np.zeros((self.m, width), np.float32)
                a[:, ma] = self.mentees_.arrays[r.question]
                b[:, mb] = self.mentors_.arrays[r.against]
                want = a.sum(axis=1, keepdims=True)
                fa.append(np.divide(w * a, want, out=np.zeros_like(a), where=want > 0))
                fb.append(b)
            else:
                self.nonlinear_.add(t)
        # Kept in float64 (the float32 values exactly) and multiplied in float64: each score
        # sums a handful of float32 terms, which float64 adds exactly, so the product no
        # longer depends on which BLAS kernel the block's shape selects (OpenBLAS picks
        # different sgemm kernels, with different rounding, for 2 rows and for 40).
        self.lin_a_ = np.ascontiguousarray(np.hstack(fa), dtype=np.float64)
        self.lin_b_ = np.ascontiguousarray(np.hstack(fb), dtype=np.float64)

    # -- similarities -------------------------------------------------------
    @staticmethod
    def _scalar(rule: Rule, enc: Encoded) -> np.ndarray:
        if rule.rule == "timezone":
            return enc.tz[rule.question]
        return enc.arrays[rule.question].astype(np.float64)

    def _scalar_sim(self, rule: Rule, a: np.ndarray, b: np.ndarray):
        """Similarity and hard-pass for scalar answers ``a`` (mentee), ``b`` (mentor)."""
        q = self.questionnaire_.question(rule.question)
        with np.errstate(invalid="ignore"):
            if q.kind == "choice":
                eq = (a == b) & (a >= 0)
                return eq.astype(np.float64), eq
            if q.kind == "scale":
                span = q.max - q.min
                if rule.rule == "same":
                    sim, passes = 1.0 - np.abs(a - b) / span, a == b
                else:
                    gap = (a - b) if self.reverse else (b - a)  # mentor minus mentee
                    sim, passes = np.where(gap >= 0, 1.0, 1.0 + gap / span), gap >= 0
                return np.nan_to_num(np.clip(sim, 0, 1), nan=0.0), passes
            d = np.abs(a - b) % 24
            d = np.minimum(d, 24 - d)
            limit = rule.hours or 0.0
            sim = np.where(d <= limit, 1.0, 1.0 - (d - limit) / max(12.0 - limit, 1.0))
            return np.nan_to_num(np.clip(sim, 0, 1), nan=0.0), d <= limit

    def similarity(
        self, rule: Rule, rows: np.ndarray, cols: np.ndarray | None = None, pairs: bool = False
    ):
        """Similarity in [0, 1] for mentees ``rows`` x mentors ``cols`` (all by default).

        With ``pairs=True``, only the pairs ``(rows[t], cols[t])`` (the block's
        diagonal), as 1-D arrays: the same arithmetic per pair, without the block.

        Returns:
            ``(sim, passes)``: float array (rows, cols) and a bool array of the
            same shape telling whether a hard version of the rule is met.
        """
        a_all, b_all = self.mentees_, self.mentors_
        full = cols is None
        cols = np.arange(self.m) if cols is None else cols
        qa, qb = rule.question, rule.mentor_question
        q = self.questionnaire_.question(qa)
        if rule.rule == "complement":
            ma, mb = self.maps_[(qa, qb)]
            width = int(max(ma.max(initial=-1), mb.max(initial=-1))) + 1
            A = np.zeros((len(rows), width), np.float32)
            B = np.zeros((len(cols), width), np.float32)
            A[:, ma] = a_all.arrays[qa][rows]
            B[:, mb] = b_all.arrays[qb][cols]
            inter = _dot(A, B, pairs)
            want = A.sum(axis=1) if pairs else A.sum(axis=1)[:, None]
            sim = np.divide(inter, want, out=np.zeros_like(inter), where=want > 0)
            return sim.astype(np.float64), inter > 0
        if q.kind in ("tags", "languages") or (q.kind == "availability" and rule.rule == "overlap"):
            A, B = self.f32_a_[qa][rows], self.f32_b_[qb]
            B = B if full else B[cols]
            inter = _dot(A, B, pairs)
            if q.kind == "availability":
                need = np.float32(rule.hours if rule.hours else 1.0)
                sim = np.minimum(inter * (1 / need), np.float32(1.0))
                return sim, inter >= need
            na, nb = A.sum(axis=1), B.sum(axis=1)
            if not pairs:
                na, nb = na[:, None], nb[None, :]
            if rule.rule == "same":
                union = na + nb
                union -= inter
                np.maximum(union, np.float32(1), out=union)  # inter is 0 where union is
                sim = inter / union
            elif q.kind == "languages":
                sim = (inter > 0).astype(np.float64)
            else:
                small = np.minimum(na, nb)
                sim = np.divide(inter, small, out=np.zeros_like(inter), where=small > 0)
            return sim, inter > 0
        for t, r in enumerate(self.questionnaire_.scored_rules):
            if r is rule and t in self.tables_:  # choice, scale and timezone rules
                ca, cb, sim_t, pass_t = self.tables_[t]
                ia, ib = (ca[rows], cb[cols]) if pairs else (ca[rows][:, None], cb[cols][None, :])
                return sim_t[ia, ib], pass_t[ia, ib]
        raise AssertionError(f"no scorer for rule {rule.rule!r} on {q.kind!r}")  # parse forbids

    def score_block(self, rows: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        """Scores 0-100 for ``rows`` x ``cols``; ``-inf`` where a hard rule fails.

        Works through the rows a few at a time (``SUB_ELEMENTS`` pairs), so the
        elementwise passes of the non-bilinear rules run on buffers that stay in
        a core's cache and are reused, instead of streaming fresh chunk-sized
        temporaries through memory. Each row's arithmetic does not depend on
        which other rows are scored with it.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 1:
            # A one-row product goes through BLAS's matrix-vector path, whose
            # rounding differs from the matrix-matrix one: score the row twice
            # so a pair scores the same whichever rows come with it.
            return self.score_block(np.repeat(rows, 2), cols)[:1].copy()
        full = cols is None
        # float32 halves memory traffic; scores are reported to 0.001 at best anyway.
        lin_b = self.lin_b_ if full else self.lin_b_[cols]
        m = lin_b.shape[0]
        out = np.empty((len(rows), m), dtype=np.float32)
        if len(rows) == 0:
            return out
        step = max(1, min(len(rows), SUB_ELEMENTS // max(m, 1)))
        bufs = (np.empty((step, m), np.float32), np.empty((step, m), np.float32))
        exact = np.empty((step, m), np.float64)
        side = self._mentor_side(None if full else cols)
        scale = 100.0 / self.total_weight_ if self.total_weight_ > 0 else 0.0
        rules = self.questionnaire_.scored_rules
        for start in range(0, len(rows), step):
            # Never a one-row block (see above): the last block takes one row back.
            start = min(start, len(rows) - 2)
            r = rows[start : start + step]
            total = out[start : start + step]
            np.matmul(self.lin_a_[r], lin_b.T, out=exact[: len(r)])
            total[...] = exact[: len(r)]
            ok = None
            for t, rule in enumerate(rules):
                passes = None
                if t in self.nonlinear_:
                    w = np.float32(rule.weight * scale)
                    passes = self._add_nonlinear(total, rule, w, r, cols, side, bufs)
                elif rule.hard:
                    passes = self.similarity(rule, r, cols)[1]
                if rule.hard:
                    ok = passes if ok is None else ok & passes
            np.clip(total, 0.0, 100.0, out=total)
            if ok is not None:
                np.copyto(total, np.float32(-np.inf), where=~ok)
        return out

    def _mentor_side(self, cols):
        """Per question, the mentors' float32 answers and (+ a tiny) answer counts."""
        if cols is None and hasattr(self, "side_"):
            return self.side_  # all mentors: computed once by fit
        side = {}
        for qb, B in self.f32_b_.items():
            B = B if cols is None else B[cols]
            # + tiny: a zero count becomes a positive denominator without
            # changing any count >= 1 (float32 absorbs it exactly).
            side[qb] = (B, B.sum(axis=1) + np.float32(1e-30))
        return side

    def _add_nonlinear(self, total, rule: Rule, w, rows, cols, side, bufs):
        """Add ``w * similarity`` to ``total`` in place; return the hard passes if needed.

        Same values as :meth:`similarity`, in the two buffers ``bufs`` (no
        temporaries), for the two rules that are not bilinear: "same" on tags
        (Jaccard) and overlap of availability hours. Others fall back to
        :meth:`similarity`.
        """
        q = self.questionnaire_.question(rule.question)
        qa, qb = rule.question, rule.mentor_question
        jaccard = q.kind == "tags" and rule.rule == "same"
        hours = q.kind == "availability" and rule.rule == "overlap"
        if not (jaccard or hours):
            sim, passes = self.similarity(rule, rows, cols)
            total += w * sim.astype(np.float32, copy=False)
            return passes
        A = self.f32_a_[qa][rows]
        B, nb = side[qb]
        inter, other = bufs[0][: len(rows)], bufs[1][: len(rows)]
        np.matmul(A, B.T, out=inter)  # 0/1 entries: exact counts
        passes = None
        if hours:
            need = np.float32(rule.hours if rule.hours else 1.0)
            if rule.hard:
                passes = inter >= need
            # w * min(count / need, 1) = min(count, need) * (w / need)
            np.minimum(inter, need, out=inter)
            inter *= np.float32(float(w) / float(need))
        else:
            if rule.hard:
                passes = inter > 0
            # union = |A| - inter + |B|; 0 only where inter is 0 (then 0 / tiny = 0).
            np.subtract(A.sum(axis=1)[:, None], inter, out=other)
            other += nb[None, :]
            np.divide(inter, other, out=inter)
            inter *= w
        total += inter
        return passes

    def pair_scores(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Scores of the pairs ``(rows[t], cols[t])``; ``-inf`` where a hard rule fails."""
        rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        total = np.einsum("ij,ij->i", self.lin_a_[rows], self.lin_b_[cols]).astype(np.float32)
        ok = np.ones(len(rows), dtype=bool)
        scale = 100.0 / self.total_weight_ if self.total_weight_ > 0 else 0.0
        for t, rule in enumerate(self.questionnaire_.scored_rules):
            if t in self.nonlinear_ or rule.hard:
                sim, passes = self.similarity(rule, rows, cols, pairs=True)
                if t in self.nonlinear_:
                    total += np.float32(rule.weight * scale) * sim.astype(np.float32, copy=False)
                if rule.hard:
                    ok &= passes
        np.clip(total, 0.0, 100.0, out=total)
        total[~ok] = -np.inf
        return total

    def rows(self, idx: np.ndarray) -> np.ndarray:
        """:class:`ScoreSource` hook: full rows for mentees ``idx``."""
        return self.score_block(np.asarray(idx, dtype=np.int64))

    def shared_hours(
        self, qid: str, rows: np.ndarray, cols: np.ndarray | None = None, pairs: bool = False
    ):
        """Shared weekly availability hours (UTC grid) for ``rows`` x ``cols``.

        With ``pairs=True``, for the pairs ``(rows[t], cols[t])`` only (1-D).
        """
        cols = np.arange(self.m) if cols is None else cols
        a = self.mentees_.arrays[qid][rows].astype(np.float32)
        b = self.mentors_.arrays[qid][cols].astype(np.float32)
        return _dot(a, b, pairs).astype(np.int64)
