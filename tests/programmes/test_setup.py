"""Programme set-up: templates, validation, copies, who may do it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from programmes import (
    TEMPLATES,
    Actor,
    InvalidInputError,
    PermissionDeniedError,
    ProgrammeInput,
    copy_programme,
    create_from_template,
    create_programme,
    list_programmes,
)
from records import AuditEvent, Participant, Programme, Tenant


@pytest.fixture
def coordinator(session: Session) -> Actor:
    tenant = Tenant(slug="assoc", name="Association")
    session.add(tenant)
    session.flush()
    return Actor(tenant_id=tenant.id, member_id=None, coordinator=True)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_makes_a_valid_programme(
    session: Session, coordinator: Actor, name: str
) -> None:
    programme = create_from_template(session, coordinator, name, starts_on=date(2027, 1, 11))
    assert programme.kind == TEMPLATES[name]["kind"]
    assert programme.status == "enrolling"
    assert programme.ends_on > programme.starts_on
    ids = {q["id"] for q in programme.questionnaire["questions"]}
    assert {"values", "want_to_learn", "can_offer", "style", "availability"} <= ids
    assert "job_title" not in ids


def test_one_to_one_template_has_the_advertised_defaults(
    session: Session, coordinator: Actor
) -> None:
    programme = create_from_template(session, coordinator, "one_to_one")
    assert programme.cadence_days == 28
    assert (programme.ends_on - programme.starts_on).days == 182


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "  "}, "name"),
        ({"default_capacity": 0}, "default_capacity"),
        ({"default_capacity": -2}, "default_capacity"),
        ({"cadence_days": 0}, "cadence_days"),
        ({"kind": "speed-dating"}, "kind"),
        ({"kind": "peer", "matching_mode": "mentee_choice"}, "matching_mode"),
        ({"starts_on": date(2027, 2, 1), "ends_on": date(2027, 1, 1)}, "ends_on"),
    ],
)
def test_bad_programme_input_names_the_field_and_writes_nothing(
    session: Session, coordinator: Actor, change: dict, field: str
) -> None:
    data = ProgrammeInput(**{"name": "Spring cohort", **change})
    with pytest.raises(InvalidInputError) as caught:
        create_programme(session, coordinator, data)
    assert field in caught.value.problems
    assert session.scalar(select(func.count()).select_from(Programme)) == 0


def test_questionnaire_referring_to_an_unknown_question_is_refused(
    session: Session, coordinator: Actor
) -> None:
    questionnaire = {
        "questions": [{"id": "values", "kind": "tags", "options": ["a", "b"]}],
        "rules": [{"question": "hobbies", "rule": "overlap", "weight": 5}],
    }
    with pytest.raises(InvalidInputError, match="hobbies"):
        create_programme(
            session, coordinator, ProgrammeInput(name="X", questionnaire=questionnaire)
        )


def test_members_cannot_create_programmes(session: Session, coordinator: Actor) -> None:
    member = Actor(tenant_id=coordinator.tenant_id, member_id=None)
    with pytest.raises(PermissionDeniedError):
        create_from_template(session, member, "one_to_one")


def test_copy_for_next_cohort_keeps_set_up_but_not_people(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    copy = copy_programme(
        session, demo.coordinator, demo.programme.id, name="Cohort 2028", starts_on=date(2028, 1, 3)
    )
    assert copy.copied_from_id == demo.programme.id
    assert copy.questionnaire == demo.programme.questionnaire
    assert copy.starts_on == date(2028, 1, 3)
    n = session.scalar(
        select(func.count()).select_from(Participant).where(Participant.programme_id == copy.id)
    )
    assert n == 0
    actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("programme.create") == 1


def test_programmes_of_another_tenant_are_invisible(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    other = Tenant(slug="other", name="Other")
    session.add(other)
    session.flush()
    outsider = Actor(tenant_id=other.id, member_id=None, coordinator=True, institution_admin=True)
    assert list_programmes(session, outsider) == []
    # The demo tenant runs two: the demo programme and its previous cohort.
    assert sorted(p.id for p in list_programmes(session, demo.coordinator)) == sorted(
        [demo.programme.id, demo.programme.copied_from_id]
    )
