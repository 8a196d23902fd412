"""Mentee choice and hybrid shortlists; the last mentor slot under concurrent requests."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checkins.demo import PREVIOUS_NAME
from programmes import (
    ConflictError,
    InvalidInputError,
    lapse_overdue_requests,
    open_shortlists,
    ranked_mentors,
    request_mentor,
    respond,
    run_matching,
)
from programmes.demo_data import seed_demo
from records import Database, Match, Participant, Programme, utcnow
from tests.support.databases import backends

from .conftest import Demo


def _mode(session: Session, demo: Demo, mode: str) -> None:
    demo.programme.matching_mode = mode
    session.commit()


def test_mentee_sees_mentors_ranked_with_reasons(session: Session, demo: Demo) -> None:
    _mode(session, demo, "mentee_choice")
    profiles = ranked_mentors(session, demo.actor_for(demo.mentees[0]), demo.programme.id)
    assert profiles
    scores = [p.score for p in profiles]
    assert scores == sorted(scores, reverse=True)
    assert all(p.factors and p.free_places >= 1 for p in profiles)
    # Profiles show what the programme shows, never the mentor's availability grid.
    assert all("availability" not in p.answers for p in profiles)


def test_request_holds_a_place_and_the_mentor_answers(session: Session, demo: Demo) -> None:
    _mode(session, demo, "mentee_choice")
    mentee = demo.mentees[0]
    best = ranked_mentors(session, demo.actor_for(mentee), demo.programme.id)[0]
    match = request_mentor(session, demo.actor_for(mentee), demo.programme.id, best.participant_id)
    mentor = session.get(Participant, best.participant_id)
    assert match.status == "proposed" and match.mentee_response == "accepted"
    assert mentor.slots_taken == 1 and match.respond_by > utcnow()
    with pytest.raises(ConflictError, match="already have a mentor or a request"):
        request_mentor(session, demo.actor_for(mentee), demo.programme.id, best.participant_id)
    respond(session, demo.actor_for(mentor), match.id, accept=True)
    assert match.status == "accepted"


def test_full_mentor_cannot_be_requested(session: Session, demo: Demo) -> None:
    _mode(session, demo, "mentee_choice")
    mentor = demo.mentors[0]
    mentor.capacity = 1
    session.commit()
    first, second = demo.mentees[0], demo.mentees[1]
    request_mentor(session, demo.actor_for(first), demo.programme.id, mentor.id)
    listed = {
        p.participant_id for p in ranked_mentors(session, demo.actor_for(second), demo.programme.id)
    }
    assert mentor.id not in listed
    with pytest.raises(ConflictError, match="just taken"):
        request_mentor(session, demo.actor_for(second), demo.programme.id, mentor.id)


def test_unanswered_request_lapses_and_frees_the_place(session: Session, demo: Demo) -> None:
    _mode(session, demo, "mentee_choice")
    mentee, mentor = demo.mentees[0], demo.mentors[0]
    match = request_mentor(session, demo.actor_for(mentee), demo.programme.id, mentor.id)
    match.respond_by = utcnow() - timedelta(minutes=1)
    session.flush()
    assert lapse_overdue_requests(session, demo.tenant.id, demo.programme.id) == 1
    session.refresh(mentor)
    assert match.status == "declined" and mentor.slots_taken == 0


def test_assigned_programmes_have_no_mentee_choice(session: Session, demo: Demo) -> None:
    with pytest.raises(ConflictError, match="coordinator makes the matches"):
        ranked_mentors(session, demo.actor_for(demo.mentees[0]), demo.programme.id)


def test_hybrid_shortlists_then_assignment_for_the_rest(session: Session, demo: Demo) -> None:
    _mode(session, demo, "hybrid")
    deadline = utcnow() + timedelta(days=5)
    given = open_shortlists(session, demo.coordinator, demo.programme.id, deadline)
    assert given == len(demo.mentees)
    shortlists = demo.programme.settings["shortlists"]
    assert all(len(v) == 3 for v in shortlists.values())
    # Spread: no mentor appears on more lists than a fair multiple of their places.
    appearances: dict[int, int] = {}
    for mentors in shortlists.values():
        for mentor_id in mentors:
            appearances[mentor_id] = appearances.get(mentor_id, 0) + 1
    assert max(appearances.values()) < len(demo.mentees)

    picker = demo.mentees[0]
    choices = ranked_mentors(session, demo.actor_for(picker), demo.programme.id)
    assert {p.participant_id for p in choices} <= set(shortlists[str(picker.id)])
    outsider = next(m for m in demo.mentors if m.id not in shortlists[str(picker.id)])
    with pytest.raises(InvalidInputError):
        request_mentor(session, demo.actor_for(picker), demo.programme.id, outsider.id)
    request_mentor(session, demo.actor_for(picker), demo.programme.id, choices[0].participant_id)

    late = demo.mentees[1]
    demo.programme.settings = {
        **demo.programme.settings,
        "choose_by": (utcnow() - timedelta(seconds=1)).isoformat(),
    }
    session.flush()
    with pytest.raises(ConflictError, match="time to choose has passed"):
        request_mentor(
            session, demo.actor_for(late), demo.programme.id, shortlists[str(late.id)][0]
        )
    summary = run_matching(session, demo.coordinator, demo.programme.id)
    assert summary.held == 1  # the pick stands, the rest are assigned
    drafts = session.scalars(select(Match).where(Match.status == "draft")).all()
    assert picker.id not in {m.mentee_participant_id for m in drafts}


def test_shortlist_deadline_must_be_in_the_future(session: Session, demo: Demo) -> None:
    _mode(session, demo, "hybrid")
    with pytest.raises(InvalidInputError, match="future"):
        open_shortlists(session, demo.coordinator, demo.programme.id, utcnow() - timedelta(hours=1))


@pytest.mark.parametrize("backend", [b for b in backends() if b == "postgresql"])
def test_two_mentees_racing_for_the_last_place_on_postgresql(database: Database) -> None:
    with database.transaction() as session:
        tenant = seed_demo(session)
        programme = session.scalars(select(Programme).where(Programme.name != PREVIOUS_NAME)).one()
        programme.matching_mode = "mentee_choice"
        people = session.scalars(select(Participant).order_by(Participant.id)).all()
        mentor = next(p for p in people if p.role == "mentor")
        mentor.capacity = 1
        mentees = [p for p in people if p.role == "mentee"][:2]
        ids = (tenant.id, programme.id, mentor.id, [m.member_id for m in mentees])

    tenant_id, programme_id, mentor_id, member_ids = ids
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(member_id: int) -> None:
        from programmes import Actor

        actor = Actor(tenant_id=tenant_id, member_id=member_id)
        try:
            with database.transaction() as s:
                ranked_mentors(s, actor, programme_id)  # both read "one place left"
                barrier.wait(timeout=10)
                request_mentor(s, actor, programme_id, mentor_id)
            outcomes.append("won")
        except ConflictError:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(m,)) for m in member_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused", "won"]
    with database.sessionmaker() as session:
        assert session.get(Participant, mentor_id).slots_taken == 1
        assert (
            session.scalar(
                select(func.count()).select_from(Match).where(Match.programme_id == programme_id)
            )
            == 1
        )


@pytest.mark.parametrize("backend", [b for b in backends() if b == "postgresql"])
def test_the_database_serialises_the_last_slot(database: Database) -> None:
    """A holds the last place in an open transaction; B's claim waits for A, then fails."""
    from programmes.decisions import take_slot

    with database.transaction() as session:
        seed_demo(session)
        mentor = session.scalars(select(Participant).where(Participant.role == "mentor")).first()
        mentor.capacity = 1
        mentor_id = mentor.id

    a_holds = threading.Event()
    results: dict[str, str] = {}

    def first() -> None:
        with database.transaction() as s:
            take_slot(s, s.get(Participant, mentor_id))
            a_holds.set()
            threading.Event().wait(0.5)  # keep the row locked while B tries
        results["a"] = "won"

    def second() -> None:
        a_holds.wait(timeout=10)
        try:
            with database.transaction() as s:
                take_slot(s, s.get(Participant, mentor_id))
            results["b"] = "won"
        except ConflictError:
            results["b"] = "refused"

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == {"a": "won", "b": "refused"}


def test_lapsing_everywhere_leaves_published_pairs_waiting(session: Session, demo: Demo) -> None:
    _mode(session, demo, "mentee_choice")
    request = request_mentor(
        session, demo.actor_for(demo.mentees[0]), demo.programme.id, demo.mentors[0].id
    )
    published = Match(
        tenant_id=demo.tenant.id,
        programme_id=demo.programme.id,
        mentor_participant_id=demo.mentors[1].id,
        mentee_participant_id=demo.mentees[1].id,
        status="proposed",
        made_by="engine",
        score=50,
        respond_by=utcnow() - timedelta(days=1),
    )
    session.add(published)
    request.respond_by = utcnow() - timedelta(days=1)
    session.flush()
    assert lapse_overdue_requests(session) == 1  # every tenant, as `tandem remind` does
    assert request.status == "declined" and published.status == "proposed"
