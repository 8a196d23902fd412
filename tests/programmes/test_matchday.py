"""Match day: run, read the draft, override, lock, re-run, publish, accept or decline."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from programmes import (
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    assign_pair,
    draft_board,
    member_programme,
    publish,
    remove_pair,
    respond,
    run_matching,
    set_locked,
    swap_mentors,
    withdraw,
)
from records import AuditEvent, Match, Participant

from .conftest import Demo


def _matches(session: Session, demo: Demo, status: str | None = None) -> list[Match]:
    query = select(Match).where(Match.programme_id == demo.programme.id)
    if status:
        query = query.where(Match.status == status)
    return list(session.scalars(query.order_by(Match.id)))


def test_run_makes_an_explained_draft_within_capacity(session: Session, demo: Demo) -> None:
    summary = run_matching(session, demo.coordinator, demo.programme.id)
    drafts = _matches(session, demo, "draft")
    assert summary.proposed == len(drafts) > 0
    assert summary.proposed + summary.unmatched == len(demo.mentees)
    assert summary.bound is not None and summary.total <= summary.bound + 1e-6
    capacity = {m.id: m.capacity for m in demo.mentors}
    for mentor_id, used in Counter(m.mentor_participant_id for m in drafts).items():
        assert used <= capacity[mentor_id]
    assert len({m.mentee_participant_id for m in drafts}) == len(drafts)
    for match in drafts:
        texts = [f["text"] for f in match.explanation]
        assert texts and all(isinstance(t, str) and t for t in texts)
        # English is the must-match language every demo member speaks.
        assert any("English" in t for t in texts)
    assert demo.programme.status == "matching"


def test_drafts_are_invisible_to_members(session: Session, demo: Demo) -> None:
    run_matching(session, demo.coordinator, demo.programme.id)
    mentee = _matches(session, demo, "draft")[0].mentee_participant_id
    participant = session.get(Participant, mentee)
    page = member_programme(session, demo.actor_for(participant), demo.programme.id)
    assert page.enrolled and page.matches == []


def test_members_cannot_run_matching(session: Session, demo: Demo) -> None:
    with pytest.raises(PermissionDeniedError):
        run_matching(session, demo.actor_for(demo.mentees[0]), demo.programme.id)


def test_programme_without_mentors_is_refused_clearly(session: Session, demo: Demo) -> None:
    for mentor in demo.mentors:
        withdraw(session, demo.actor_for(mentor), demo.programme.id)
    with pytest.raises(InvalidInputError, match="no mentors enrolled"):
        run_matching(session, demo.coordinator, demo.programme.id)
    assert _matches(session, demo) == []


def test_board_lists_unmatched_with_reasons_and_mentor_load(session: Session, demo: Demo) -> None:
    # Fewer places than mentees: cap every mentor at one.
    for mentor in demo.mentors:
        mentor.capacity = 1
    session.flush()
    summary = run_matching(session, demo.coordinator, demo.programme.id)
    board = draft_board(session, demo.coordinator, demo.programme.id)
    assert summary.unmatched == len(demo.mentees) - len(demo.mentors)
    assert len(board.unmatched) == summary.unmatched
    assert all(u["reason"] for u in board.unmatched)
    assert all(load.used <= load.capacity == 1 for load in board.mentors)


def test_override_warns_when_a_must_match_rule_breaks(session: Session, demo: Demo) -> None:
    mentee, mentor = demo.mentees[0], demo.mentors[0]
    mentor.answers = {**mentor.answers, "languages": ["Polish"]}
    mentee.answers = {**mentee.answers, "languages": ["English"]}
    session.flush()
    run_matching(session, demo.coordinator, demo.programme.id)
    match, warnings = assign_pair(
        session, demo.coordinator, demo.programme.id, mentee.id, mentor.id
    )
    assert match.locked and match.made_by == "coordinator"
    assert warnings and "must-match" in warnings[0]
    drafts = [m for m in _matches(session, demo, "draft") if m.mentee_participant_id == mentee.id]
    assert [m.id for m in drafts] == [match.id]


def test_override_refuses_a_full_mentor(session: Session, demo: Demo) -> None:
    mentor = demo.mentors[0]
    mentor.capacity = 1
    session.flush()
    assign_pair(session, demo.coordinator, demo.programme.id, demo.mentees[0].id, mentor.id)
    with pytest.raises(ConflictError, match="full"):
        assign_pair(session, demo.coordinator, demo.programme.id, demo.mentees[1].id, mentor.id)


def test_locked_pairs_survive_a_rerun_and_unlocked_ones_are_replaced(
    session: Session, demo: Demo
) -> None:
    run_matching(session, demo.coordinator, demo.programme.id)
    first, second = _matches(session, demo, "draft")[:2]
    set_locked(session, demo.coordinator, demo.programme.id, first.id, True)
    # Mark both rows: ids may be reused after a delete, a marker is not.
    for match in (first, second):
        match.end_reason = f"marker-{match.id}"
    session.flush()
    run_matching(session, demo.coordinator, demo.programme.id)
    markers = {m.end_reason for m in _matches(session, demo, "draft")}
    assert f"marker-{first.id}" in markers and f"marker-{second.id}" not in markers
    assert (
        sum(
            1
            for m in _matches(session, demo, "draft")
            if m.mentee_participant_id == first.mentee_participant_id
        )
        == 1
    )


def test_swap_exchanges_mentors(session: Session, demo: Demo) -> None:
    run_matching(session, demo.coordinator, demo.programme.id)
    drafts = _matches(session, demo, "draft")
    a = drafts[0]
    b = next(m for m in drafts if m.mentor_participant_id != a.mentor_participant_id)
    pairs_before = {
        (a.mentee_participant_id, b.mentor_participant_id),
        (b.mentee_participant_id, a.mentor_participant_id),
    }
    swap_mentors(session, demo.coordinator, demo.programme.id, a.id, b.id)
    after = {
        (m.mentee_participant_id, m.mentor_participant_id) for m in _matches(session, demo, "draft")
    }
    assert pairs_before <= after


def test_publishing_an_empty_draft_is_refused(session: Session, demo: Demo) -> None:
    with pytest.raises(ConflictError, match="draft is empty"):
        publish(session, demo.coordinator, demo.programme.id)


def test_publish_accept_and_decline(session: Session, demo: Demo) -> None:
    run_matching(session, demo.coordinator, demo.programme.id)
    published = publish(session, demo.coordinator, demo.programme.id)
    proposed = _matches(session, demo, "proposed")
    assert published == len(proposed) > 1 and not _matches(session, demo, "draft")
    taken = Counter(m.mentor_participant_id for m in proposed)
    for mentor in demo.mentors:
        session.refresh(mentor)
        assert mentor.slots_taken == taken.get(mentor.id, 0)

    accepted, declined = proposed[0], proposed[1]
    mentor_a = session.get(Participant, accepted.mentor_participant_id)
    mentee_a = session.get(Participant, accepted.mentee_participant_id)
    respond(session, demo.actor_for(mentee_a), accepted.id, accept=True)
    assert accepted.status == "proposed"  # the mentor has not answered yet
    respond(session, demo.actor_for(mentor_a), accepted.id, accept=True)
    assert accepted.status == "accepted" and mentee_a.status == mentor_a.status == "matched"
    with pytest.raises(ConflictError):
        respond(session, demo.actor_for(mentor_a), accepted.id, accept=False)

    mentor_d = session.get(Participant, declined.mentor_participant_id)
    mentee_d = session.get(Participant, declined.mentee_participant_id)
    before = mentor_d.slots_taken
    respond(session, demo.actor_for(mentee_d), declined.id, accept=False, reason="not a fit")
    session.refresh(mentor_d)
    assert declined.status == "declined" and declined.end_reason == "not a fit"
    assert mentor_d.slots_taken == before - 1 and mentee_d.status == "enrolled"

    # The mentee is back in the pool, and the declined pair is never proposed again.
    run_matching(session, demo.coordinator, demo.programme.id)
    redraft = [
        m for m in _matches(session, demo, "draft") if m.mentee_participant_id == mentee_d.id
    ]
    assert all(m.mentor_participant_id != mentor_d.id for m in redraft)


def test_only_the_two_sides_can_answer(session: Session, demo: Demo) -> None:
    run_matching(session, demo.coordinator, demo.programme.id)
    publish(session, demo.coordinator, demo.programme.id)
    match = _matches(session, demo, "proposed")[0]
    bystander = next(p for p in demo.mentees if p.id != match.mentee_participant_id)
    with pytest.raises(PermissionDeniedError):
        respond(session, demo.actor_for(bystander), match.id, accept=True)


def test_every_state_change_is_audited(session: Session, demo: Demo) -> None:
    run_matching(session, demo.coordinator, demo.programme.id)
    draft = _matches(session, demo, "draft")[0]
    set_locked(session, demo.coordinator, demo.programme.id, draft.id, True)
    remove_pair(session, demo.coordinator, demo.programme.id, draft.id)
    assign_pair(
        session,
        demo.coordinator,
        demo.programme.id,
        draft.mentee_participant_id,
        draft.mentor_participant_id,
    )
    publish(session, demo.coordinator, demo.programme.id)
    match = _matches(session, demo, "proposed")[0]
    mentee = session.get(Participant, match.mentee_participant_id)
    respond(session, demo.actor_for(mentee), match.id, accept=False)
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {
        "matching.run",
        "matching.lock",
        "matching.remove",
        "matching.override",
        "matching.publish",
        "match.decline",
    } <= actions
