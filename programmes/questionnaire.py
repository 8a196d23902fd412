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

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from string import Formatter
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from matching import KINDS, RULE_KINDS, Questionnaire, QuestionnaireError

from .errors import InvalidInputError

AUDIENCES = ("both", "mentor", "mentee")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Keys a page needs that the matching engine does not read.
_PAGE_KEYS = ("prompt", "audience", "max_choices", "required", "help")
_MATCHING_KEYS = ("id", "kind", "label", "options", "min", "max")
MAX_TEXT = 2000


# Limits that keep a questionnaire answerable on one page (and a request small).
MAX_QUESTIONS = 40
MAX_OPTIONS = 50
MAX_RULES = 60
MAX_KEY = 40
MAX_LABEL = 80
MAX_PROMPT = 300
MAX_OPTION = 100
MAX_WORDING = 200
MAX_SCALE_STEPS = 10
# Question keys become form field names on the enrolment page: these are taken there.
RESERVED_KEYS = frozenset({"csrf_token", "role", "capacity", "answer", "reason"})
_KEY = re.compile(r"[a-z][a-z0-9_]*")
OPTION_KINDS = ("tags", "choice", "languages")
# Fields a rule's own wording may use (see matching.explain).
_WORDING_FIELDS = frozenset(
    {"label", "items", "hours", "hours_unit", "diff", "diff_unit", "mentee", "mentor", "senior"}
)


def check_definition(definition: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a whole stored definition and return it as plain data.

    The one check of a questionnaire, for templates, copies and the editor: unique
    keys that can serve as form fields, options where a kind needs them, rules that fit
    their question's kind and who answers it, weights 0-10, and limits on how many
    questions, options and characters there are.

    Raises:
        InvalidInputError: whose message lists every problem, naming the question or rule.
    """
    if not isinstance(definition, Mapping):
        raise InvalidInputError("The questionnaire is not valid: it must be a mapping.")
    questions = definition.get("questions", [])
    rules = definition.get("rules", [])
    if not isinstance(questions, list) or not isinstance(rules, list):
        raise InvalidInputError("The questionnaire is not valid: questions and rules are lists.")
    problems: dict[str, str] = {}
    if len(questions) > MAX_QUESTIONS:
        problems["questions"] = f"Keep to {MAX_QUESTIONS} questions or fewer."
    if len(rules) > MAX_RULES:
        problems["rules"] = f"Keep to {MAX_RULES} rules or fewer."
    if not problems:
        seen: set[str] = set()
        for number, question in enumerate(questions, start=1):
            where = f"Question {number}"
            if not isinstance(question, Mapping):
                problems[where] = "must be a mapping."
                continue
            qid = question.get("id")
            if isinstance(qid, str) and qid:
                where = f"Question {number} ({qid})"
            problem = _question_problem(question, seen)
            if problem:
                problems[where] = problem
            if isinstance(qid, str):
                seen.add(qid)
        if not problems:
            by_id = {q["id"]: q for q in questions}
            rule_seen: set[tuple[Any, ...]] = set()
            for number, rule in enumerate(rules, start=1):
                problem = _rule_problem(rule, by_id, rule_seen)
                if problem:
                    problems[f"Rule {number}"] = problem
    if not problems:
        try:
            Questionnaire.from_dict(to_matching(definition))
        except QuestionnaireError as exc:
            problems["questionnaire"] = str(exc)
    if problems:
        listed = "; ".join(f"{where}: {problem}" for where, problem in problems.items())
        raise InvalidInputError(f"The questionnaire is not valid. {listed}", problems)
    return {"questions": list(questions), "rules": list(rules)}


def _question_problem(question: Mapping[str, Any], seen: set[str]) -> str | None:
    """What is wrong with one question (``seen``: keys of the questions before it)."""
    unknown = set(question) - set(_PAGE_KEYS) - set(_MATCHING_KEYS)
    if unknown:
        return f"unknown field(s) {', '.join(sorted(map(str, unknown)))}."
    qid, kind = question.get("id"), question.get("kind")
    if not isinstance(qid, str) or not qid:
        return "give it a key (lower-case letters, digits and _)."
    if len(qid) > MAX_KEY or not _KEY.fullmatch(qid) or "__" in qid:
        return (
            f"the key must start with a lower-case letter, use only a-z, 0-9 and single _, "
            f"and have at most {MAX_KEY} characters."
        )
    if qid in RESERVED_KEYS:
        return f"the key {qid!r} is taken by the enrolment form; choose another."
    if qid in seen:
        return f"the key {qid!r} is used twice; each question needs its own."
    if kind not in KINDS:
        return f"the kind must be one of {', '.join(KINDS)}."
    for name, limit in (("label", MAX_LABEL), ("prompt", MAX_PROMPT)):
        text = question.get(name, "")
        if not isinstance(text, str) or len(text) > limit:
            return f"the {name} must be text of at most {limit} characters."
    if question.get("audience", "both") not in AUDIENCES:
        return f"who answers must be one of {', '.join(AUDIENCES)}."
    if not isinstance(question.get("required", False), bool):
        return "required must be true or false."
    options = question.get("options")
    if kind in OPTION_KINDS:
        if not isinstance(options, list) or not options:
            return f"a {kind} question needs options to choose from."
        if len(options) > MAX_OPTIONS:
            return f"keep to {MAX_OPTIONS} options or fewer."
        if not all(isinstance(o, str) and o.strip() and len(o) <= MAX_OPTION for o in options):
            return f"each option must be text of 1 to {MAX_OPTION} characters."
        if len(set(options)) != len(options):
            return "an option is listed twice."
    elif options:
        return f"a {kind} question takes no options."
    if kind == "scale":
        low, high = question.get("min", 1), question.get("max", 5)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
            return "the scale's lowest and highest values must be whole numbers."
        if not 1 <= high - low <= MAX_SCALE_STEPS:
            return f"the scale must go up, by at most {MAX_SCALE_STEPS} steps."
    elif "min" in question or "max" in question:
        return f"a {kind} question takes no lowest or highest value."
    max_choices = question.get("max_choices")
    if max_choices is not None:
        if kind not in ("tags", "languages"):
            return f"a {kind} question takes no 'choose at most'."
        if isinstance(max_choices, bool) or not isinstance(max_choices, int):
            return "'choose at most' must be a whole number."
        if not 1 <= max_choices <= len(options or []):
            return f"'choose at most' must be from 1 to the number of options ({len(options)})."
    return None


def _rule_problem(
    rule: Any, by_id: Mapping[str, Mapping[str, Any]], seen: set[tuple[Any, ...]]
) -> str | None:
    """What is wrong with one rule, in a coordinator's words (the matching engine checks
    the same again, as the last word)."""
    if not isinstance(rule, Mapping):
        return "must be a mapping."
    qid, name, against = rule.get("question"), rule.get("rule"), rule.get("against")
    if qid not in by_id:
        return f"it scores {qid!r}, which is not a question here."
    question = by_id[qid]
    if name not in RULE_KINDS:
        return f"the rule must be one of {', '.join(RULE_KINDS)}."
    if question["kind"] not in RULE_KINDS[name]:
        return (
            f"{name!r} cannot score a {question['kind']} question; "
            f"it scores {', '.join(RULE_KINDS[name])}."
        )
    weight = rule.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 10:
        return "the weight must be a number from 0 to 10."
    audience = question.get("audience", "both")
    if name == "complement":
        if against not in by_id:
            return "a complement rule compares with another question: choose which."
        if by_id[against]["kind"] != "tags":
            return f"a complement rule compares tags with tags; {against!r} is not tags."
        if audience == "mentor" or by_id[against].get("audience", "both") == "mentee":
            return (
                "a complement rule compares what a mentee asks (a mentee or both question) "
                "with what a mentor offers (a mentor or both question)."
            )
    elif audience != "both":
        return f"both sides must answer {qid!r} for {name!r} to compare them."
    hours = rule.get("hours")
    if name == "timezone" and hours is None:
        return "a time zone rule needs the largest gap in hours."
    if hours is not None:
        if not (name == "timezone" or (name == "overlap" and question["kind"] == "availability")):
            return "only time zone and availability overlap rules take hours."
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 <= hours <= 168:
            return "hours must be a number from 0 to 168."
    text = rule.get("text", {})
    if not isinstance(text, Mapping) or set(text) - {"raised", "lowered"}:
        return "its wording maps 'raised' and 'lowered' to text."
    for wording in text.values():
        problem = _wording_problem(wording)
        if problem:
            return problem
    key = (qid, name, against)
    if key in seen:
        return f"{qid!r} is already scored by {name!r}; keep one of them."
    seen.add(key)
    return None


def _wording_problem(wording: Any) -> str | None:
    if not isinstance(wording, str) or not wording.strip() or len(wording) > MAX_WORDING:
        return f"each wording must be text of 1 to {MAX_WORDING} characters."
    try:
        fields = {field for _, field, _, _ in Formatter().parse(wording) if field is not None}
    except ValueError:
        return "a wording has an unmatched { or }; write {{ or }} for a brace."
    unknown = fields - _WORDING_FIELDS
    if unknown:
        return (
            f"a wording uses {{{sorted(unknown)[0]}}}; it may use "
            f"{', '.join('{' + f + '}' for f in sorted(_WORDING_FIELDS))}."
        )
    return None


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


_ROW = re.compile(r"([qr])(\d{1,4})_([a-z_]+)")


def _rows(form: Mapping[str, Sequence[str]], prefix: str) -> dict[int, dict[str, str]]:
    """The editor's numbered rows (``q3_kind`` -> row 3, field ``kind``), first values."""
    rows: dict[int, dict[str, str]] = {}
    for name, values in form.items():
        match = _ROW.fullmatch(name)
        if match and match[1] == prefix and values:
            rows.setdefault(int(match[2]), {})[match[3]] = str(values[0])
    return rows


def _number(raw: str) -> Any:
    """A form number (whole numbers as int); text that is not one is kept as it is, so
    that :func:`check_definition` names it."""
    text = raw.strip()
    try:
        value = float(text)
    except ValueError:
        return text
    if value != value or value in (float("inf"), float("-inf")):
        return text  # "nan" and "inf" parse, but are no weight or hour
    return int(value) if value.is_integer() else value


def definition_from_form(form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Turn the question editor's fields into a definition (unchecked: pass it to
    :func:`check_definition`).

    Questions are rows ``q<n>_<field>`` (key, kind, label, prompt, audience, options one
    a line, min, max, max_choices, required, position, remove); rules are rows
    ``r<n>_<field>`` (question, rule, against, hours, weight, raised, lowered, remove).
    A row with no key (question) or no question (rule) is the empty "add" row and is
    left out. Questions are ordered by position; fields a kind does not use are
    dropped, so switching a question's kind does not trip over its old options. A
    removed question takes its rules with it.

    Raises:
        InvalidInputError: more rows than a questionnaire may have.
    """
    question_rows, rule_rows = _rows(form, "q"), _rows(form, "r")
    # Each list may carry one empty "add" row beyond the limit.
    if len(question_rows) > MAX_QUESTIONS + 1 or len(rule_rows) > MAX_RULES + 1:
        raise InvalidInputError(
            f"A questionnaire has at most {MAX_QUESTIONS} questions and {MAX_RULES} rules."
        )
    questions: list[tuple[Any, int, dict[str, Any]]] = []
    removed: set[str] = set()
    for index, row in sorted(question_rows.items()):
        qid = row.get("key", "").strip()
        if row.get("remove"):
            removed.add(qid)
            continue
        if not any(row.get(name, "").strip() for name in ("key", "label", "prompt", "options")):
            continue  # the empty "add a question" row
        kind = row.get("kind", "")
        question: dict[str, Any] = {"id": qid, "kind": kind}
        for name in ("label", "prompt"):
            if row.get(name, "").strip():
                question[name] = row[name].strip()
        question["audience"] = row.get("audience", "both")
        if kind in OPTION_KINDS:
            question["options"] = [
                line.strip() for line in row.get("options", "").splitlines() if line.strip()
            ]
        if kind == "scale":
            question["min"] = _number(row.get("min", "1"))
            question["max"] = _number(row.get("max", "5"))
        if kind in ("tags", "languages") and row.get("max_choices", "").strip():
            question["max_choices"] = _number(row["max_choices"])
        question["required"] = bool(row.get("required"))
        position = _number(row.get("position", ""))
        order = position if isinstance(position, int | float) else index
        questions.append((order, index, question))
    questions.sort(key=lambda item: (item[0], item[1]))
    kinds = {q["id"]: q["kind"] for _, _, q in questions}
    removed -= set(kinds)
    rules: list[dict[str, Any]] = []
    for _, row in sorted(rule_rows.items()):
        qid, name = row.get("question", "").strip(), row.get("rule", "")
        against = row.get("against", "").strip()
        if row.get("remove") or not qid or qid in removed:
            continue
        if name == "complement" and against in removed:
            continue
        rule: dict[str, Any] = {"question": qid, "rule": name}
        rule["weight"] = _number(row.get("weight", ""))
        if name == "complement":
            rule["against"] = against
        hours = row.get("hours", "").strip()
        if name == "timezone" or (hours and name == "overlap" and kinds.get(qid) == "availability"):
            rule["hours"] = _number(hours)
        text = {k: row[k].strip() for k in ("raised", "lowered") if row.get(k, "").strip()}
        if text:
            rule["text"] = text
        rules.append(rule)
    return {"questions": [q for _, _, q in questions], "rules": rules}
