"""Quiet and at-risk pairs, members' private flags, re-matching and closing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkins import (
    CheckinDraft,
    InvalidInput,
    PairNotRunning,
    SurveyAnswer,
    answer_survey,
    close_pair,
    end_outcome,
    excluded_pairs,
    flag_pair,
    log_checkin,
    pair_states,
    raise_alerts,
    rematch_pair,
)
from records import Alert, AuditEvent
from tests.support.checkins_factory import NOW, World


def states_on(session: Session, world: World, day):
    return {s.match_id: s for s in pair_states(session, world.tenant.id, world.programme, day)}


def test_a_pair_is_quiet_after_cadence_plus_grace(session: Session, world: World) -> None:
    pair = world.pair
    start = pair.match.accepted_at.date()
    assert not states_on(session, world, start + timedelta(days=28 + 7))[pair.match.id].quiet
    assert states_on(session, world, start + timedelta(days=28 + 8))[pair.match.id].quiet
    log_checkin(session, world.tenant.id, pair.match.id, pair.mentee.id,
                CheckinDraft(met_on=NOW.date(), duration_minutes=30), now=NOW)  # fmt: skip
    state = states_on(session, world, NOW.date() + timedelta(days=10))[pair.match.id]
    assert not state.quiet and state.active


def test_grace_days_are_a_programme_setting(session: Session, world: World) -> None:
    world.programme.settings = {"grace_days": 0}
    start = world.pair.match.accepted_at.date()
    assert states_on(session, world, start + timedelta(days=29))[world.pair.match.id].quiet


def test_low_satisfaction_and_unanswered_pulses_put_a_pair_at_risk(
    session: Session, world: World
) -> None:
    pair, other = world.pairs
    day30 = pair.match.accepted_at.date() + timedelta(days=30)
    answer_survey(session, world.tenant.id, pair.mentee.id, "day30",
                  SurveyAnswer(satisfaction=2, usefulness=2, confidence=2),
                  match_id=pair.match.id, today=day30)  # fmt: skip
    states = states_on(session, world, day30)
    assert states[pair.match.id].risks == ["low satisfaction"]
    assert states[other.match.id].risks == []
    later = states_on(session, world, day30 + timedelta(days=14))
    assert "day30 survey unanswered" in later[other.match.id].risks


def test_alerts_are_raised_once(session: Session, world: World) -> None:
    quiet_day = world.pair.match.accepted_at.date() + timedelta(days=40)
    first = raise_alerts(session, world.tenant.id, world.programme.id, quiet_day)
    assert {a.kind for a in first} == {"quiet_pair"} and len(first) == 2
    assert raise_alerts(session, world.tenant.id, world.programme.id, quiet_day) == []
    assert session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "alert.raised")
    ).all()


def test_a_member_flags_privately_and_the_coordinator_rematches(
    session: Session, world: World
) -> None:
    pair, tenant = world.pair, world.tenant.id
    with pytest.raises(InvalidInput, match="say briefly"):
        flag_pair(session, tenant, pair.match.id, pair.mentee.id, "  ")
    alert = flag_pair(session, tenant, pair.match.id, pair.mentee.id, "I can't reach my mentor")
    assert alert.kind == "member_flag" and alert.raised_by_member_id == pair.mentee.id
    match = rematch_pair(
        session, tenant, pair.match.id, world.coordinator.id,
        programme_id=world.programme.id, reason="no contact",
    )  # fmt: skip
    assert match.status == "rematched" and pair.mentee_participant.status == "enrolled"
    assert pair.mentor_participant.slots_taken == 0
    assert alert.status == "resolved"
    assert excluded_pairs(session, tenant, world.programme.id) == {
        (pair.mentor_participant.id, pair.mentee_participant.id)
    }
    with pytest.raises(PairNotRunning):
        rematch_pair(
            session, tenant, pair.match.id, world.coordinator.id,
            programme_id=world.programme.id, reason="again",
        )  # fmt: skip


def test_closing_records_the_outcome(session: Session, world: World) -> None:
    pair, other = world.pairs
    with pytest.raises(InvalidInput, match="why the pair ends early"):
        close_pair(session, world.tenant.id, pair.match.id, pair.mentee.id, "early", "")
    with pytest.raises(InvalidInput, match="outcome 'abandoned'"):
        close_pair(session, world.tenant.id, pair.match.id, pair.mentee.id, "abandoned")
    close_pair(session, world.tenant.id, pair.match.id, pair.mentee.id, "early", "new job")
    close_pair(session, world.tenant.id, other.match.id, world.coordinator.id, "completed",
               coordinator=True)  # fmt: skip
    assert end_outcome(pair.match) == "early" and end_outcome(other.match) == "completed"
    assert session.scalars(select(Alert)).all() == []
