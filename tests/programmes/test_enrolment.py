"""Enrolment: answers validated, one enrolment per member, withdraw and re-join."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from programmes import (
    Actor,
    ConflictError,
    InvalidInputError,
    enrol,
    run_matching,
    update_answers,
    withdraw,
)
from records import AuditEvent, Participant

from .conftest import Demo, answers, new_member


def _newcomer(session: Session, demo: Demo, name: str = "Nell Newcomer") -> Actor:
    member = new_member(session, demo.tenant.id, name)
    return Actor(tenant_id=demo.tenant.id, member_id=member.id)


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Participant)) or 0


def test_enrol_as_mentor_with_capacity_and_audit(session: Session, demo: Demo) -> None:
    actor = _newcomer(session, demo)
    participant = enrol(
        session, actor, demo.programme.id, "mentor", answers("mentor"), capacity="3"
    )
    assert participant.capacity == 3 and participant.status == "enrolled"
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "participant.enrol")
    ).one()
    assert event.actor_member_id == actor.member_id and event.tenant_id == demo.tenant.id


def test_mentor_capacity_defaults_to_the_programme_default(session: Session, demo: Demo) -> None:
    participant = enrol(
        session, _newcomer(session, demo), demo.programme.id, "mentor", answers("mentor")
    )
    assert participant.capacity == demo.programme.default_capacity


@pytest.mark.parametrize("capacity", [0, -1, "lots", 51])
def test_bad_capacity_is_refused_and_nothing_written(
    session: Session, demo: Demo, capacity: object
) -> None:
    before = _count(session)
    with pytest.raises(InvalidInputError) as caught:
        enrol(
            session,
            _newcomer(session, demo),
            demo.programme.id,
            "mentor",
            answers("mentor"),
            capacity=capacity,
        )
    assert "capacity" in caught.value.problems
    assert _count(session) == before


def test_invalid_answers_are_each_named(session: Session, demo: Demo) -> None:
    bad = answers("mentee")
    bad["values"] = ["integrity", "being right"]  # not an option
    bad["style"] = "shouting"
    bad["seniority"] = 9
    bad["availability"] = {"time_zone": "Mars/Olympus", "slots": ["mon-18"]}
    del bad["languages"]
    bad["job_title"] = "Analyst"  # not a question
    before = _count(session)
    with pytest.raises(InvalidInputError) as caught:
        enrol(session, _newcomer(session, demo), demo.programme.id, "mentee", bad)
    problems = caught.value.problems
    assert "being right is not one of the choices" in problems["values"]
    assert problems["style"] == "Choose one of the options."
    assert "from 1 to 5" in problems["seniority"]
    assert "Mars/Olympus" in problems["availability"]
    assert problems["languages"] == "Please answer this question."
    assert "not part of the questionnaire" in problems["job_title"]
    assert _count(session) == before


def test_enrolling_twice_is_refused(session: Session, demo: Demo) -> None:
    mentee = demo.mentees[0]
    with pytest.raises(ConflictError, match="already enrolled"):
        enrol(session, demo.actor_for(mentee), demo.programme.id, "mentee", answers("mentee"))


def test_wrong_role_for_programme_kind(session: Session, demo: Demo) -> None:
    with pytest.raises(InvalidInputError, match="mentee or mentor"):
        enrol(session, _newcomer(session, demo), demo.programme.id, "peer", answers("mentee"))


def test_withdraw_then_rejoin_reuses_the_row(session: Session, demo: Demo) -> None:
    actor = _newcomer(session, demo)
    first = enrol(session, actor, demo.programme.id, "mentee", answers("mentee"))
    withdraw(session, actor, demo.programme.id)
    assert first.status == "withdrawn"
    again = enrol(session, actor, demo.programme.id, "mentor", answers("mentor"), capacity=2)
    assert again.id == first.id and again.role == "mentor" and again.status == "enrolled"


def test_answers_can_change_until_matching_then_are_fixed(session: Session, demo: Demo) -> None:
    mentee = demo.mentees[0]
    actor = demo.actor_for(mentee)
    changed = answers("mentee", seed=7)
    update_answers(session, actor, demo.programme.id, changed)
    assert mentee.answers["style"] == changed["style"]
    run_matching(session, demo.coordinator, demo.programme.id)
    with pytest.raises(ConflictError, match="fixed now that matching has started"):
        update_answers(session, actor, demo.programme.id, answers("mentee", seed=8))


def test_another_tenants_member_cannot_enrol(session: Session, demo: Demo) -> None:
    from programmes import NotFoundError
    from records import Tenant

    other = Tenant(slug="elsewhere", name="Elsewhere")
    session.add(other)
    session.flush()
    stranger = new_member(session, other.id, "Sam Stranger")
    with pytest.raises(NotFoundError):
        enrol(
            session,
            Actor(tenant_id=other.id, member_id=stranger.id),
            demo.programme.id,
            "mentee",
            answers("mentee"),
        )
