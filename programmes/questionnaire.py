"""A programme's questionnaire: what members are asked, how answers are checked, and how
definitions and answers are handed to the matching engine.

A stored definition is the matching engine's questionnaire plus what a page needs::

    {"questions": [{"id": "values", "kind": "tags", "label": "values",
                    "prompt": "Which values matter most to you at work?",
                    "audience": "both", "options": [...], "max_choices": 3}, ...],
     "rules": [{"question": "values", "rule": "overlap", "weight": 7}, ...]}

``audience`` says who answers: ``both``, ``mentor`` or ``mentee`` (peers answer all).
Availability is stored as the member gave it, in their own time zone
(``{"time_zone": "Europe/London", "slots": ["mon-18", "wed-12"]}``), and turned into a
UTC offset for the programme's start date only when matching, so daylight saving is right.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from matching import Questionnaire, QuestionnaireError

from .errors import InvalidInputError

AUDIENCES = ("both", "mentor", "mentee")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Keys a page needs that the matching engine does not read.
_PAGE_KEYS = ("prompt", "audience", "max_choices", "required", "help")
_MATCHING_KEYS = ("id", "kind", "label", "options", "min", "max")
MAX_TEXT = 2000


def check_definition(definition: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a stored definition and return it as plain data.

    Raises:
        InvalidInputError: naming the question or rule at fault.
    """
    try:
        Questionnaire.from_dict(to_matching(definition))
    except QuestionnaireError as exc:
        raise InvalidInputError(f"The questionnaire is not valid: {exc}") from exc
    for question in definition.get("questions", []):
        audience = question.get("audience", "both")
        if audience not in AUDIENCES:
            raise InvalidInputError(
                f"Question {question['id']!r} has audience {audience!r}; "
                f"use one of {', '.join(AUDIENCES)}"
            )
        max_choices = question.get("max_choices")
        if max_choices is not None and (not isinstance(max_choices, int) or max_choices < 1):
            raise InvalidInputError(f"Question {question['id']!r}: max_choices must be 1 or more")
    return {
        "questions": list(definition.get("questions", [])),
        "rules": list(definition.get("rules", [])),
    }


def to_matching(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The matching engine's form of a stored definition (page-only keys dropped)."""
    questions = []
    for question in definition.get("questions", []):
        if not isinstance(question, Mapping):
            raise InvalidInputError("Each question must be a mapping")
        kept = {k: v for k, v in question.items() if k in _MATCHING_KEYS}
        if question.get("kind") == "languages":
            # Languages list their choices for the page; matching compares any strings.
            kept.pop("options", None)
        questions.append(kept)
    return {"questions": questions, "rules": list(definition.get("rules", []))}


def questions_for(definition: Mapping[str, Any], role: str) -> list[dict[str, Any]]:
    """The questions a participant of ``role`` answers, in order."""
    return [
        q
        for q in definition.get("questions", [])
        if role == "peer" or q.get("audience", "both") in ("both", role)
    ]


def _required(question: Mapping[str, Any]) -> bool:
    return bool(question.get("required", question["kind"] != "text"))


def check_answers(
    definition: Mapping[str, Any], role: str, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate one participant's answers; return them cleaned.

    Raises:
        InvalidInputError: with ``problems`` mapping each question id to what is wrong.
    """
    problems: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for question in questions_for(definition, role):
        qid = question["id"]
        value = answers.get(qid)
        empty = value in (None, "", [], {}) or (
            isinstance(value, Mapping) and not value.get("slots")
        )
        if empty:
            if _required(question):
                problems[qid] = "Please answer this question."
            continue
        try:
            clean[qid] = _check_one(question, value)
        except ValueError as exc:
            problems[qid] = str(exc)
    unknown = set(answers) - {q["id"] for q in questions_for(definition, role)}
    for qid in sorted(unknown):
        problems[qid] = "This question is not part of the questionnaire for your role."
    if problems:
        raise InvalidInputError("Some answers need another look.", problems)
    return clean


def _check_one(question: Mapping[str, Any], value: Any) -> Any:
    kind = question["kind"]
    options = list(question.get("options", []))
    if kind in ("tags", "languages"):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
            raise ValueError("Choose from the list.")
        chosen = sorted(set(value))
        if options:
            stray = [v for v in chosen if v not in options]
            if stray:
                raise ValueError(f"{', '.join(stray)} is not one of the choices.")
        limit = question.get("max_choices")
        if limit and len(chosen) > limit:
            raise ValueError(f"Choose at most {limit}.")
        return chosen
    if kind == "choice":
        if value not in options:
            raise ValueError("Choose one of the options.")
        return value
    if kind == "scale":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError("Give a number.") from None
        low, high = question.get("min", 1), question.get("max", 5)
        if not low <= number <= high:
            raise ValueError(f"Give a number from {low:g} to {high:g}.")
        return int(number) if number.is_integer() else number
    if kind == "availability":
        return _check_availability(value)
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError("Write some text.")
        if len(value) > MAX_TEXT:
            raise ValueError(f"Keep it under {MAX_TEXT} characters.")
        return value.strip()
    raise ValueError(f"Unknown question kind {kind!r}.")


def _check_availability(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError("Pick a time zone and at least one time.")
    zone = value.get("time_zone")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{zone!r} is not a time zone (e.g. Europe/London).") from None
    slots = []
    for slot in value.get("slots", []):
        day, _, hour = str(slot).partition("-")
        if day not in DAYS or not hour.isdigit() or not 0 <= int(hour) <= 23:
            raise ValueError(f"{slot!r} is not a weekly time like 'mon-18'.")
        slots.append(f"{day}-{int(hour):02d}")
    if not slots:
        raise ValueError("Pick at least one time you could meet.")
    return {"time_zone": zone, "slots": sorted(set(slots), key=_slot_order)}


def _slot_order(slot: str) -> tuple[int, int]:
    day, _, hour = slot.partition("-")
    return DAYS.index(day), int(hour)


def utc_offset(time_zone: str, on: date) -> float:
    """Hours ahead of UTC in ``time_zone`` at noon on ``on`` (daylight saving included)."""
    moment = datetime.combine(on, time(12), tzinfo=UTC).astimezone(ZoneInfo(time_zone))
    offset = moment.utcoffset()
    return offset.total_seconds() / 3600 if offset is not None else 0.0


def matching_answers(
    definition: Mapping[str, Any], answers: Mapping[str, Any], on: date
) -> dict[str, Any]:
    """One participant's stored answers in the matching engine's form."""
    kinds = {q["id"]: q["kind"] for q in definition.get("questions", [])}
    converted: dict[str, Any] = {}
    for qid, value in answers.items():
        if kinds.get(qid) == "availability":
            converted[qid] = {
                "utc_offset": utc_offset(value["time_zone"], on),
                "slots": [list(_slot_order(slot)) for slot in value["slots"]],
            }
        elif qid in kinds:
            converted[qid] = value
    return converted


def parse_form(
    definition: Mapping[str, Any], role: str, form: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """Turn submitted form fields (name -> list of values) into raw answers.

    Field names: the question id; availability adds ``<id>__time_zone``.
    """
    answers: dict[str, Any] = {}
    for question in questions_for(definition, role):
        qid, kind = question["id"], question["kind"]
        values = [v for v in form.get(qid, []) if v != ""]
        if kind in ("tags", "languages"):
            answers[qid] = values
        elif kind == "availability":
            zone = (form.get(f"{qid}__time_zone") or [""])[0]
            answers[qid] = {"time_zone": zone, "slots": values}
        else:
            answers[qid] = values[0] if values else None
    return answers


def time_zone_choices() -> list[str]:
    """Every IANA time zone name, sorted, for a page's picker."""
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
