"""The questionnaire editor's domain: each edit, and each refusal writing nothing.

Every database test runs on SQLite and PostgreSQL (the ``session`` fixture).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from programmes import (
    MAX_QUESTIONS,
    Actor,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ProgrammeInput,
    check_definition,
    definition_from_form,
    edit_questionnaire,
    questionnaire_editor,
    questionnaire_lock,
    run_matching,
    set_status,
    update_programme,
)
from records import AuditEvent, Programme, Tenant

SPORT = {
    "id": "sport",
    "kind": "choice",
    "label": "sport",
    "prompt": "Which sport do you follow?",
    "audience": "both",
    "options": ["football", "cricket", "rugby"],
    "required": True,
}


def _edits(session: Session) -> int:
    return session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "programme.questionnaire")
    )


def _with(definition: dict[str, Any], *questions: dict, rules: list | None = None) -> dict:
    changed = copy.deepcopy(definition)
    changed["questions"].extend(copy.deepcopy(list(questions)))
    changed["rules"].extend(rules or [])
    return changed


@pytest.fixture
def open_demo(demo, session: Session):  # type: ignore[no-untyped-def]
    """The demo programme while enrolment is open and matching has not run."""
    assert questionnaire_lock(session, demo.programme) is None
    return demo


def test_add_a_question_of_every_kind_with_its_rules(open_demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    demo = open_demo
    new = [
        {**SPORT},
        {"id": "hobbies", "kind": "tags", "prompt": "Hobbies?", "options": ["chess", "choir"],
         "max_choices": 1},
        {"id": "energy", "kind": "scale", "prompt": "Energy?", "min": 0, "max": 10},
        {"id": "evenings", "kind": "availability", "prompt": "Evenings free?"},
        {"id": "tongues", "kind": "languages", "prompt": "Languages?", "options": ["Welsh"]},
        {"id": "motto", "kind": "text", "prompt": "Your motto", "required": False},
    ]  # fmt: skip
    rules = [
        {"question": "sport", "rule": "same", "weight": 3},
        {"question": "hobbies", "rule": "overlap", "weight": 2,
         "text": {"raised": "you both enjoy {items}"}},
        {"question": "energy", "rule": "at_least", "weight": 1.5},
        {"question": "evenings", "rule": "timezone", "weight": 4, "hours": 2},
        {"question": "tongues", "rule": "overlap", "weight": 9},
    ]  # fmt: skip
    before = _edits(session)
    definition = _with(demo.programme.questionnaire, *new, rules=rules)
    programme = edit_questionnaire(session, demo.coordinator, demo.programme.id, definition)
    session.commit()
    session.expire_all()
    saved = session.get(Programme, programme.id).questionnaire
    assert [q["id"] for q in saved["questions"]][-6:] == [q["id"] for q in new]
    assert saved["rules"][-5:] == rules
    assert _edits(session) == before + 1
    editor = questionnaire_editor(session, demo.coordinator, demo.programme.id)
    assert "sport" in [q["id"] for q in editor.forms["mentee"]]
    assert "sport" in [q["id"] for q in editor.forms["mentor"]]
    assert editor.enrolled == len(demo.mentors) + len(demo.mentees)
    # Members who enrolled before have no answer to the new questions: matching still runs.
    summary = run_matching(session, demo.coordinator, demo.programme.id)
    assert summary.proposed > 0


def test_edit_reorder_and_remove_through_the_editor_form(open_demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    demo = open_demo
    definition = _with(
        demo.programme.questionnaire,
        SPORT,
        rules=[{"question": "sport", "rule": "same", "weight": 3}],
    )
    edit_questionnaire(session, demo.coordinator, demo.programme.id, definition)
    questions = definition["questions"]
    form: dict[str, list[str]] = {}
    for n, q in enumerate(questions):
        form.update(
            {
                f"q{n}_key": [q["id"]],
                f"q{n}_kind": [q["kind"]],
                f"q{n}_label": [q.get("label", "")],
                f"q{n}_prompt": [q.get("prompt", "")],
                f"q{n}_audience": [q.get("audience", "both")],
                f"q{n}_options": ["\n".join(q.get("options", []))],
                f"q{n}_position": [str(n + 1)],
            }
        )
        if q["kind"] == "scale":
            form.update({f"q{n}_min": [str(q["min"])], f"q{n}_max": [str(q["max"])]})
        if q.get("max_choices"):
            form[f"q{n}_max_choices"] = [str(q["max_choices"])]
        if q.get("required", q["kind"] != "text"):
            form[f"q{n}_required"] = ["on"]
    sport = len(questions) - 1
    form[f"q{sport}_position"] = ["0"]  # first
    form[f"q{sport}_options"] = ["football\ncricket\n\n  tennis  "]  # edited, blank line
    about = next(n for n, q in enumerate(questions) if q["id"] == "about")
    form[f"q{about}_remove"] = ["on"]
    form[f"q{len(questions)}_key"] = [""]  # the empty "add" row
    for n, rule in enumerate(definition["rules"]):
        form.update(
            {
                f"r{n}_question": [rule["question"]],
                f"r{n}_rule": [rule["rule"]],
                f"r{n}_against": [rule.get("against", "")],
                f"r{n}_hours": [str(rule.get("hours", ""))],
                f"r{n}_weight": [str(rule["weight"])],
                f"r{n}_raised": [rule.get("text", {}).get("raised", "")],
            }
        )
    values_rule = next(n for n, r in enumerate(definition["rules"]) if r["question"] == "values")
    form[f"r{values_rule}_weight"] = ["9"]
    draft = definition_from_form(form)
    edit_questionnaire(session, demo.coordinator, demo.programme.id, draft)
    session.commit()
    session.expire_all()
    saved = session.get(Programme, demo.programme.id).questionnaire
    ids = [q["id"] for q in saved["questions"]]
    assert ids[0] == "sport" and "about" not in ids
    assert saved["questions"][0]["options"] == ["football", "cricket", "tennis"]
    assert next(r for r in saved["rules"] if r["question"] == "values")["weight"] == 9
    assert {"question": "sport", "rule": "same", "weight": 3} in saved["rules"]
    assert len(ids) == len(questions) - 1


def test_removing_a_question_takes_its_rules(open_demo) -> None:  # type: ignore[no-untyped-def]
    form = {
        "q0_key": ["sport"], "q0_kind": ["choice"], "q0_options": ["a\nb"],
        "q1_key": ["old"], "q1_kind": ["tags"], "q1_options": ["x"], "q1_remove": ["on"],
        "r0_question": ["sport"], "r0_rule": ["same"], "r0_weight": ["2"],
        "r1_question": ["old"], "r1_rule": ["overlap"], "r1_weight": ["2"],
        "r2_question": [""], "r2_rule": ["same"], "r2_weight": ["5"],
    }  # fmt: skip
    draft = definition_from_form(form)
    assert [q["id"] for q in draft["questions"]] == ["sport"]
    assert draft["rules"] == [{"question": "sport", "rule": "same", "weight": 2}]
    check_definition(draft)


def test_fields_a_kind_does_not_use_are_dropped(open_demo) -> None:  # type: ignore[no-untyped-def]
    """Switching a tags question to a scale keeps its old options in the form: ignored."""
    draft = definition_from_form(
        {"q0_key": ["level"], "q0_kind": ["scale"], "q0_options": ["a\nb"],
         "q0_min": ["1"], "q0_max": ["4"], "q0_max_choices": ["2"]}
    )  # fmt: skip
    assert draft["questions"][0] == {
        "id": "level", "kind": "scale", "audience": "both", "min": 1, "max": 4, "required": False,
    }  # fmt: skip
    check_definition(draft)


def _question(**change: Any) -> dict:
    return {**SPORT, **change}


REFUSALS = [
    ("same key twice", [SPORT, SPORT], [], "used twice"),
    ("tags without options", [_question(kind="tags", options=[])], [], "needs options"),
    ("choice without options", [_question(options=[])], [], "needs options"),
    ("languages without options", [_question(kind="languages", options=[])], [], "needs options"),
    ("an option twice", [_question(options=["a", "a"])], [], "listed twice"),
    ("a blank option", [_question(options=["a", " "])], [], "each option"),
    ("options on a scale", [_question(kind="scale", options=["a"])], [], "takes no options"),
    ("scale going down", [_question(kind="scale", options=None, min=5, max=1)], [], "scale"),
    ("scale of 100 steps", [_question(kind="scale", options=None, min=0, max=100)], [], "steps"),
    ("a key with spaces", [_question(id="Sport Club")], [], "key must"),
    ("a key with a double underscore", [_question(id="sport__time_zone")], [], "key must"),
    ("a key the form uses", [_question(id="csrf_token")], [], "taken by the enrolment form"),
    ("a key too long", [_question(id="s" * 41)], [], "at most 40"),
    ("an unknown kind", [_question(kind="poll")], [], "kind must"),
    ("an unknown field", [_question(colour="red")], [], "unknown field"),
    ("a prompt too long", [_question(prompt="x" * 301)], [], "at most 300"),
    ("an option too long", [_question(options=["x" * 101])], [], "each option"),
    ("too many options", [_question(options=[f"o{n}" for n in range(51)])], [], "50 options"),
    ("choose more than there are", [_question(kind="tags", max_choices=4)], [], "choose at most"),
    ("an unknown audience", [_question(audience="staff")], [], "who answers"),
    ("a rule on no question", [SPORT], [{"question": "golf", "rule": "same", "weight": 2}],
     "not a question"),
    ("a rule that does not fit", [SPORT], [{"question": "sport", "rule": "at_least", "weight": 2}],
     "cannot score a choice"),
    ("an unknown rule", [SPORT], [{"question": "sport", "rule": "near", "weight": 2}],
     "rule must"),
    ("a weight over 10", [SPORT], [{"question": "sport", "rule": "same", "weight": 11}],
     "weight must"),
    ("a weight in words", [SPORT], [{"question": "sport", "rule": "same", "weight": "lots"}],
     "weight must"),
    ("a negative weight", [SPORT], [{"question": "sport", "rule": "same", "weight": -1}],
     "weight must"),
    ("hours on a same rule", [SPORT],
     [{"question": "sport", "rule": "same", "weight": 2, "hours": 3}], "take hours"),
    ("the same rule twice", [SPORT],
     [{"question": "sport", "rule": "same", "weight": 2}] * 2, "already scored"),
    ("one side only compared", [_question(audience="mentee")],
     [{"question": "sport", "rule": "same", "weight": 2}], "both sides must answer"),
    ("a wording with an unknown field", [SPORT],
     [{"question": "sport", "rule": "same", "weight": 2, "text": {"raised": "{secret}"}}],
     "wording uses"),
    ("a wording with a lone brace", [SPORT],
     [{"question": "sport", "rule": "same", "weight": 2, "text": {"raised": "you {"}}],
     "unmatched"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("questions", "rules", "says"),
    [pytest.param(q, r, s, id=name) for name, q, r, s in REFUSALS],
)
def test_bad_questionnaires_are_refused_and_change_nothing(
    open_demo, session: Session, questions: list, rules: list, says: str
) -> None:  # type: ignore[no-untyped-def]
    demo = open_demo
    before = copy.deepcopy(demo.programme.questionnaire)
    edits = _edits(session)
    definition = _with(before, *questions, rules=rules)
    with pytest.raises(InvalidInputError) as caught:
        edit_questionnaire(session, demo.coordinator, demo.programme.id, definition)
    assert says.lower() in str(caught.value).lower()
    session.rollback()
    session.expire_all()
    assert session.get(Programme, demo.programme.id).questionnaire == before
    assert _edits(session) == edits


def test_too_many_questions_are_refused(open_demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    demo = open_demo
    many = [_question(id=f"q{n}") for n in range(MAX_QUESTIONS + 1)]
    with pytest.raises(InvalidInputError, match=f"{MAX_QUESTIONS} questions"):
        edit_questionnaire(
            session, demo.coordinator, demo.programme.id, {"questions": many, "rules": []}
        )
    rows = {f"q{n}_key": [f"q{n}"] for n in range(MAX_QUESTIONS + 2)}
    with pytest.raises(InvalidInputError, match="at most"):
        definition_from_form(rows)


def test_a_wording_that_would_break_explanations_is_refused_at_creation(
    session: Session,
) -> None:
    """Before, ``{`` in a rule's wording was stored and failed when matching explained."""
    definition = {
        "questions": [SPORT],
        "rules": [{"question": "sport", "rule": "same", "weight": 2, "text": {"raised": "a {"}}],
    }
    with pytest.raises(InvalidInputError, match="unmatched"):
        check_definition(definition)


def test_every_template_passes_the_check() -> None:
    from programmes import TEMPLATES

    for template in TEMPLATES.values():
        check_definition(template["questionnaire"])


def test_changes_are_refused_once_matching_has_run(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    run_matching(session, demo.coordinator, demo.programme.id)
    session.commit()
    before = copy.deepcopy(demo.programme.questionnaire)
    edits = _edits(session)
    with pytest.raises(ConflictError, match="Matching has run"):
        edit_questionnaire(session, demo.coordinator, demo.programme.id, _with(before, SPORT))
    editor = questionnaire_editor(session, demo.coordinator, demo.programme.id)
    assert editor.locked and "answers members gave" in editor.locked
    session.rollback()
    assert session.get(Programme, demo.programme.id).questionnaire == before
    assert _edits(session) == edits


def test_reopening_enrolment_after_matching_keeps_the_questionnaire_fixed(
    demo, session: Session
) -> None:  # type: ignore[no-untyped-def]
    """Before, setting the status back to enrolling let weights change under the drafts."""
    run_matching(session, demo.coordinator, demo.programme.id)
    set_status(session, demo.coordinator, demo.programme.id, "enrolling")
    session.commit()
    programme = demo.programme
    changed = copy.deepcopy(programme.questionnaire)
    changed["rules"][0]["weight"] = 1
    data = ProgrammeInput(
        name=programme.name,
        kind=programme.kind,
        matching_mode=programme.matching_mode,
        starts_on=programme.starts_on,
        ends_on=programme.ends_on,
        cadence_days=programme.cadence_days,
        default_capacity=programme.default_capacity,
        questionnaire=changed,
    )
    with pytest.raises(ConflictError, match="Matching has run"):
        update_programme(session, demo.coordinator, programme.id, data)
    with pytest.raises(ConflictError):
        edit_questionnaire(session, demo.coordinator, programme.id, changed)


def test_only_a_coordinator_of_the_programme_may_edit(open_demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    demo = open_demo
    definition = _with(demo.programme.questionnaire, SPORT)
    member = demo.actor_for(demo.mentees[0])
    with pytest.raises(PermissionDeniedError):
        edit_questionnaire(session, member, demo.programme.id, definition)
    with pytest.raises(PermissionDeniedError):
        questionnaire_editor(session, member, demo.programme.id, definition)
    other = Tenant(slug="elsewhere", name="Elsewhere")
    session.add(other)
    session.flush()
    outsider = Actor(tenant_id=other.id, member_id=None, coordinator=True)
    with pytest.raises(NotFoundError):
        edit_questionnaire(session, outsider, demo.programme.id, definition)
    assert "sport" not in [q["id"] for q in demo.programme.questionnaire["questions"]]


def test_the_preview_of_a_bad_draft_names_the_problem_and_writes_nothing(
    open_demo, session: Session
) -> None:  # type: ignore[no-untyped-def]
    demo = open_demo
    before = copy.deepcopy(demo.programme.questionnaire)
    draft = _with(before, _question(options=[]))
    editor = questionnaire_editor(session, demo.coordinator, demo.programme.id, draft)
    assert editor.problem and "needs options" in editor.problem
    assert editor.forms == {}
    good = questionnaire_editor(session, demo.coordinator, demo.programme.id, _with(before, SPORT))
    assert good.problem is None and good.forms["mentee"][-1]["id"] == "sport"
    assert session.get(Programme, demo.programme.id).questionnaire == before
    assert not session.dirty
