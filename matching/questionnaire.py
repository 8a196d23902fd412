"""Questionnaire definitions: plain data (JSON) parsed into frozen dataclasses.

A definition looks like::

    {"questions": [{"id": "values", "kind": "tags", "label": "values",
                    "options": ["work-life balance", "family", ...]},
                   {"id": "learn", "kind": "tags", "options": [...]},
                   {"id": "offer", "kind": "tags", "options": [...]},
                   {"id": "seniority", "kind": "scale", "min": 1, "max": 5},
                   {"id": "when", "kind": "availability"},
                   {"id": "bio", "kind": "text"}],
     "rules": [{"question": "values", "rule": "overlap", "weight": 6,
                "text": {"raised": "you both value {items}"}},
               {"question": "learn", "against": "offer", "rule": "complement", "weight": 8},
               {"question": "seniority", "rule": "at_least", "weight": 10},
               {"question": "when", "rule": "timezone", "hours": 3, "weight": 4},
               {"question": "when", "rule": "overlap", "hours": 2, "weight": 5}]}

Weights are 0-10; 10 means must match (a hard rule), 0 means not scored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import QuestionnaireError

__all__ = ["KINDS", "RULES", "RULE_KINDS", "Question", "Questionnaire", "Rule"]

KINDS = ("tags", "choice", "scale", "availability", "languages", "text")
RULES = ("same", "overlap", "complement", "at_least", "timezone")
# Which question kinds each rule can score.
RULE_KINDS = {
    "same": ("tags", "choice", "scale", "languages"),
    "overlap": ("tags", "languages", "availability"),
    "complement": ("tags",),
    "at_least": ("scale",),
    "timezone": ("availability",),
}
HARD_WEIGHT = 10


@dataclass(frozen=True)
class Question:
    """One question. ``options`` for tags/choice; ``min``/``max`` for scale."""

    id: str
    kind: str
    label: str = ""
    options: tuple[str, ...] = ()
    min: float = 1.0
    max: float = 5.0

    @property
    def title(self) -> str:
        """Label for explanations, falling back to the id."""
        return self.label or self.id


@dataclass(frozen=True)
class Rule:
    """How one question (or a question pair) scores a mentee-mentor pair.

    Attributes:
        question: The mentee's question id.
        rule: One of :data:`RULES`.
        weight: 0-10; 10 is a hard rule (the pair is excluded unless it passes).
        against: For "complement", the mentor's question ("can offer"); other
            rules compare the same question on both sides.
        hours: For "timezone", the largest allowed difference in hours; for
            availability "overlap", the shared hours a week that count as full.
        text: Optional wording overrides, keys "raised"/"lowered", with fields
            {items}, {hours}, {label}, {mentee}, {mentor}, {diff}.
    """

    question: str
    rule: str
    weight: float
    against: str | None = None
    hours: float | None = None
    text: Mapping[str, str] = field(default_factory=dict)

    @property
    def hard(self) -> bool:
        """True for a must-match rule."""
        return self.weight >= HARD_WEIGHT

    @property
    def mentor_question(self) -> str:
        """The question read on the mentor's side."""
        return self.against or self.question


@dataclass(frozen=True)
class Questionnaire:
    """A parsed, validated questionnaire. Build with :meth:`from_dict`."""

    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]

    def question(self, qid: str) -> Question:
        """Return the question with id ``qid``.

        Raises:
            QuestionnaireError: no such question.
        """
        for q in self.questions:
            if q.id == qid:
                return q
        raise QuestionnaireError(f"unknown question {qid!r}")

    @property
    def scored_rules(self) -> tuple[Rule, ...]:
        """Rules with a positive weight."""
        return tuple(r for r in self.rules if r.weight > 0)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable form; ``from_dict(q.to_dict()) == q``."""
        qs = []
        for q in self.questions:
            d = asdict(q)
            d["options"] = list(q.options)
            qs.append(d)
        rs = [dict(asdict(r), text=dict(r.text)) for r in self.rules]
        return {"questions": qs, "rules": rs}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Questionnaire:
        """Parse and validate a plain-data definition.

        Raises:
            QuestionnaireError: (a ValueError) naming the question or rule at fault.
        """
        if not isinstance(data, Mapping):
            raise QuestionnaireError(f"questionnaire must be a mapping; got {type(data).__name__}")
        unknown = set(data) - {"questions", "rules"}
        if unknown:
            raise QuestionnaireError(f"questionnaire has unknown key(s) {sorted(unknown)}")
        questions = tuple(_parse_question(q, n) for n, q in enumerate(data.get("questions", [])))
        ids = [q.id for q in questions]
        dup = {x for x in ids if ids.count(x) > 1}
        if dup:
            raise QuestionnaireError(f"question id(s) {sorted(dup)} used more than once")
        by_id = {q.id: q for q in questions}
        rules = tuple(_parse_rule(r, n, by_id) for n, r in enumerate(data.get("rules", [])))
        return cls(questions, rules)


def _parse_question(raw: Any, n: int) -> Question:
    if not isinstance(raw, Mapping):
        raise QuestionnaireError(f"question #{n} must be a mapping; got {type(raw).__name__}")
    qid = raw.get("id")
    if not isinstance(qid, str) or not qid:
        raise QuestionnaireError(f"question #{n} needs a non-empty string 'id'")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise QuestionnaireError(f"question {qid!r} has kind {kind!r}; need one of {KINDS}")
    extra = set(raw) - {"id", "kind", "label", "options", "min", "max"}
    if extra:
        raise QuestionnaireError(f"question {qid!r} has unknown key(s) {sorted(extra)}")
    options = raw.get("options", ())
    if kind in ("tags", "choice"):
        if not options or not all(isinstance(o, str) for o in options):
            raise QuestionnaireError(f"question {qid!r} ({kind}) needs a list of string options")
        if len(set(options)) != len(options):
            raise QuestionnaireError(f"question {qid!r} repeats an option")
    elif options:
        raise QuestionnaireError(f"question {qid!r} ({kind}) takes no options")
    lo, hi = raw.get("min", 1), raw.get("max", 5)
    if kind == "scale" and not (
        isinstance(lo, int | float) and isinstance(hi, int | float) and lo < hi
    ):
        raise QuestionnaireError(f"question {qid!r} (scale) needs numbers min < max")
    label = raw.get("label", "")
    if not isinstance(label, str):
        raise QuestionnaireError(f"question {qid!r} label must be a string")
    return Question(qid, kind, label, tuple(options), float(lo), float(hi))


def _parse_rule(raw: Any, n: int, by_id: Mapping[str, Question]) -> Rule:
    if not isinstance(raw, Mapping):
        raise QuestionnaireError(f"rule #{n} must be a mapping; got {type(raw).__name__}")
    extra = set(raw) - {"question", "rule", "weight", "against", "hours", "text"}
    if extra:
        raise QuestionnaireError(f"rule #{n} has unknown key(s) {sorted(extra)}")
    qid = raw.get("question")
    if qid not in by_id:
        raise QuestionnaireError(f"rule #{n} refers to unknown question {qid!r}")
    kind = raw.get("rule")
    if kind not in RULES:
        raise QuestionnaireError(f"rule #{n} ({qid!r}) has rule {kind!r}; need one of {RULES}")
    q = by_id[qid]
    if q.kind not in RULE_KINDS[kind]:
        raise QuestionnaireError(
            f"rule #{n}: {kind!r} cannot score question {qid!r} of kind {q.kind!r}; "
            f"it scores {', '.join(RULE_KINDS[kind])}"
        )
    weight = raw.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 10:
        raise QuestionnaireError(f"rule #{n} ({qid!r}) has weight {weight!r}; need 0-10")
    against = raw.get("against")
    if kind == "complement":
        if against not in by_id:
            raise QuestionnaireError(
                f"rule #{n} ({qid!r}) complement refers to unknown question {against!r}"
            )
        if by_id[against].kind != "tags":
            raise QuestionnaireError(f"rule #{n}: complement question {against!r} must be tags")
    elif against is not None:
        raise QuestionnaireError(f"rule #{n} ({qid!r}): 'against' is only for complement")
    hours = raw.get("hours")
    if kind == "timezone" and hours is None:
        raise QuestionnaireError(f"rule #{n} ({qid!r}) timezone needs 'hours' (largest gap)")
    if hours is not None and (
        isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 <= hours <= 168
    ):
        raise QuestionnaireError(f"rule #{n} ({qid!r}) has hours {hours!r}; need 0-168")
    text = raw.get("text", {})
    if not isinstance(text, Mapping) or set(text) - {"raised", "lowered"}:
        raise QuestionnaireError(f"rule #{n} ({qid!r}) text must map 'raised'/'lowered' to str")
    return Rule(qid, kind, float(weight), against, None if hours is None else float(hours), text)
