"""Plain-words explanations of a pair's score, as structured factors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .questionnaire import Rule
from .scoring import Scorer

__all__ = ["Explanation", "Factor", "explain", "explain_pairs"]

PAIR_CHUNK = 4096  # pairs per vectorised pass in explain_pairs

DEFAULT_TEXT = {
    ("overlap", "tags"): ("you both chose {items} for {label}", "no shared answers for {label}"),
    ("same", "tags"): ("you both chose {items} for {label}", "different answers for {label}"),
    ("overlap", "languages"): ("you both speak {items}", "no shared language"),
    ("same", "languages"): ("you both speak {items}", "no shared language"),
    ("complement", "tags"): (
        "offers {items}, which you want to learn",
        "does not offer {items}, which you want to learn",
    ),
    ("overlap", "availability"): (
        "{hours} {hours_unit} of shared availability a week",
        "only {hours} {hours_unit} of shared availability a week",
    ),
    ("timezone", "availability"): (
        "time zones {diff} {diff_unit} apart",
        "time zones {diff} {diff_unit} apart",
    ),
    ("at_least", "scale"): (
        "{senior} is at least as senior ({mentor} vs {mentee})",
        "{senior} is less senior ({mentor} vs {mentee})",
    ),
    ("same", "scale"): (
        "similar answers for {label} ({mentee} and {mentor})",
        "different answers for {label} ({mentee} and {mentor})",
    ),
    ("same", "choice"): (
        "you both chose {mentee} for {label}",
        "different {label}: {mentee}, {mentor}",
    ),
}


@dataclass(frozen=True)
class Factor:
    """One rule's part in a pair's score.

    Attributes:
        question: The (mentee-side) question id.
        rule: The rule name.
        points: Points this rule contributed to the 0-100 score.
        max_points: Points it would give at a perfect match.
        direction: "raised" (similarity >= 0.5) or "lowered".
        text: Plain words for a page, e.g. "you both value work-life balance".
        hard: True for a must-match rule; ``passed`` tells whether it held.
        passed: For hard rules, whether the pair meets it.
    """

    question: str
    rule: str
    points: float
    max_points: float
    direction: str
    text: str
    hard: bool = False
    passed: bool = True


@dataclass(frozen=True)
class Explanation:
    """Why a pair scores what it does.

    Attributes:
        mentee, mentor: The pair.
        score: The pair's score (None when a hard rule excludes it).
        factors: Scored rules, biggest effect first (raised before lowered).
        texts: Free-text answers shown alongside: question id -> (mentee, mentor).
    """

    mentee: int
    mentor: int
    score: float | None
    factors: tuple[Factor, ...]
    texts: dict[str, tuple[str, str]]

    @property
    def raised(self) -> tuple[Factor, ...]:
        """Factors that raised the score."""
        return tuple(f for f in self.factors if f.direction == "raised")

    @property
    def lowered(self) -> tuple[Factor, ...]:
        """Factors that lowered the score."""
        return tuple(f for f in self.factors if f.direction == "lowered")


def _items(names: list[str]) -> str:
    if not names:
        return "nothing"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _fmt(v: float) -> str:
    return f"{v:g}"


def _unit(value: str) -> str:
    return "hour" if value == "1" else "hours"


def _words(scorer: Scorer, rule: Rule, i: int, j: int, sim: float, hours: int | None = None) -> str:
    """A factor's text; ``hours`` (shared hours of an overlap rule) if already known."""
    qn = scorer.questionnaire_
    q = qn.question(rule.question)
    a, b = scorer.mentees_, scorer.mentors_
    fields = {"label": q.title, "items": "", "hours": "", "diff": "", "mentee": "", "mentor": ""}
    fields["senior"] = "you are" if scorer.reverse else "mentor"
    if q.kind in ("tags", "languages"):
        qb = rule.mentor_question
        va = [o for o, x in zip(scorer.vocab_[q.id], a.arrays[q.id][i], strict=True) if x]
        vb = {o for o, x in zip(scorer.vocab_[qb], b.arrays[qb][j], strict=True) if x}
        shared = [o for o in va if o in vb]
        missing = [o for o in va if o not in vb]
        fields["items"] = _items(shared if sim >= 0.5 or rule.rule != "complement" else missing)
    elif q.kind == "availability":
        if rule.rule == "overlap":
            if hours is None:
                hours = int(scorer.shared_hours(q.id, np.array([i]), np.array([j]))[0, 0])
            fields["hours"] = str(hours)
        else:
            d = abs(a.tz[q.id][i] - b.tz[q.id][j]) % 24
            fields["diff"] = "unknown" if np.isnan(d) else _fmt(min(d, 24 - d))
    elif q.kind == "scale":
        va, vb = a.arrays[q.id][i], b.arrays[q.id][j]
        fields["mentee"] = "no answer" if np.isnan(va) else _fmt(va)
        fields["mentor"] = "no answer" if np.isnan(vb) else _fmt(vb)
    elif q.kind == "choice":
        ca, cb = a.arrays[q.id][i], b.arrays[q.id][j]
        fields["mentee"] = q.options[ca] if ca >= 0 else "no answer"
        fields["mentor"] = q.options[cb] if cb >= 0 else "no answer"
    fields["hours_unit"], fields["diff_unit"] = _unit(fields["hours"]), _unit(fields["diff"])
    up, down = DEFAULT_TEXT[(rule.rule, q.kind)]
    template = rule.text.get("raised", up) if sim >= 0.5 else rule.text.get("lowered", down)
    try:
        return template.format(**fields)
    except (KeyError, IndexError):
        return template  # a custom wording with an unknown field: show it as written


def explain(scorer: Scorer, mentee: int, mentor: int) -> Explanation:
    """Explain one pair's score with structured factors.

    Args:
        scorer: A fitted :class:`Scorer`.
        mentee, mentor: Row and column indices.

    Returns:
        An :class:`Explanation`; ``factors`` sum (``points``) to the score.

    Raises:
        IndexError: an index out of range.
    """
    if not (0 <= mentee < scorer.n and 0 <= mentor < scorer.m):
        raise IndexError(f"pair ({mentee}, {mentor}) outside ({scorer.n}, {scorer.m})")
    rows, cols = np.array([mentee]), np.array([mentor])
    factors = []
    scale = 100.0 / scorer.total_weight_ if scorer.total_weight_ else 0.0
    excluded = False
    for rule in scorer.questionnaire_.scored_rules:
        sim_arr, pass_arr = scorer.similarity(rule, rows, cols)
        sim, passed = float(sim_arr[0, 0]), bool(pass_arr[0, 0])
        excluded |= rule.hard and not passed
        factors.append(
            Factor(
                question=rule.question,
                rule=rule.rule,
                points=round(rule.weight * sim * scale, 3),
                max_points=round(rule.weight * scale, 3),
                direction="raised" if sim >= 0.5 else "lowered",
                text=_words(scorer, rule, mentee, mentor, sim),
                hard=rule.hard,
                passed=passed if rule.hard else True,
            )
        )
    factors.sort(key=_factor_order)
    texts = {
        qid: (scorer.mentees_.texts[qid][mentee], scorer.mentors_.texts[qid][mentor])
        for qid in scorer.mentees_.texts
    }
    score = None if excluded else float(scorer.score_block(rows, cols)[0, 0])
    return Explanation(mentee, mentor, score, tuple(factors), texts)


def explain_pairs(scorer: Scorer, mentees, mentors) -> list[Explanation]:
    """Explain many pairs at once: ``(mentees[t], mentors[t])`` for each t.

    The same factors, texts and score as :func:`explain` gives pair by pair,
    but each rule's similarity is evaluated once for all pairs (only the needed
    entries, in chunks), so match day can explain thousands of pairs quickly.

    Raises:
        IndexError: an index out of range.
    """
    rows = np.asarray(mentees, dtype=np.int64).reshape(-1)
    cols = np.asarray(mentors, dtype=np.int64).reshape(-1)
    if len(rows) != len(cols):
        raise ValueError(f"{len(rows)} mentees but {len(cols)} mentors; need one of each per pair")
    bad = (rows < 0) | (rows >= scorer.n) | (cols < 0) | (cols >= scorer.m)
    if bad.any():
        t = int(np.argmax(bad))
        raise IndexError(f"pair ({rows[t]}, {cols[t]}) outside ({scorer.n}, {scorer.m})")
    out: list[Explanation] = []
    for start in range(0, len(rows), PAIR_CHUNK):
        out += _explain_chunk(
            scorer, rows[start : start + PAIR_CHUNK], cols[start : start + PAIR_CHUNK]
        )
    return out


def _explain_chunk(scorer: Scorer, rows: np.ndarray, cols: np.ndarray) -> list[Explanation]:
    qn = scorer.questionnaire_
    scale = 100.0 / scorer.total_weight_ if scorer.total_weight_ else 0.0
    per_rule = []
    excluded = np.zeros(len(rows), dtype=bool)
    for rule in qn.scored_rules:
        sim, passed = scorer.similarity(rule, rows, cols, pairs=True)
        excluded |= rule.hard & ~passed
        hours = None
        if qn.question(rule.question).kind == "availability" and rule.rule == "overlap":
            hours = scorer.shared_hours(rule.question, rows, cols, pairs=True)
        per_rule.append((rule, sim, passed, hours))
    scores = scorer.pair_scores(rows, cols)
    text_q = list(scorer.mentees_.texts)
    out = []
    for t, (i, j) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        factors = []
        for rule, sim_a, pass_a, hours in per_rule:
            sim, passed = float(sim_a[t]), bool(pass_a[t])
            factors.append(
                Factor(
                    question=rule.question,
                    rule=rule.rule,
                    points=round(rule.weight * sim * scale, 3),
                    max_points=round(rule.weight * scale, 3),
                    direction="raised" if sim >= 0.5 else "lowered",
                    text=_words(scorer, rule, i, j, sim, None if hours is None else int(hours[t])),
                    hard=rule.hard,
                    passed=passed if rule.hard else True,
                )
            )
        factors.sort(key=_factor_order)
        texts = {q: (scorer.mentees_.texts[q][i], scorer.mentors_.texts[q][j]) for q in text_q}
        score = None if excluded[t] else float(scores[t])
        out.append(Explanation(i, j, score, tuple(factors), texts))
    return out


def _factor_order(f: Factor):
    return (
        f.direction != "raised",
        -(f.points if f.direction == "raised" else f.max_points - f.points),
    )
