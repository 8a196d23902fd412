"""Milestones: reached from the pair's figures, recorded once per person and pair, shown
on the member's page and counted on the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from checkins import (
    CheckinDraft,
    award_due_milestones,
    award_milestones,
    close_pair,
    log_checkin,
    milestone_counts,
    save_agreement,
    sign_agreement,
)
from checkins.overview import member_page
from records import Milestone
from tests.support.checkins_factory import NOW, TODAY, World

from .test_agreements import draft


def _kinds(session: Session, member_id: int) -> list[str]:
    return sorted(
        session.scalars(select(Milestone.kind).where(Milestone.member_id == member_id)).all()
    )


def _meet(session: Session, world: World, minutes: int = 60, days_ago: int = 1) -> None:
    pair = world.pair
    log_checkin(
        session,
        world.tenant.id,
        pair.match.id,
        pair.mentee.id,
        CheckinDraft(met_on=TODAY - timedelta(days=days_ago), duration_minutes=minutes),
        now=NOW,
    )


def test_each_milestone_is_recorded_once_for_both_of_the_pair(
    session: Session, world: World
) -> None:
    pair = world.pair
    save_agreement(session, world.tenant.id, pair.match.id, pair.mentee.id, draft(), today=TODAY)
    sign_agreement(session, world.tenant.id, pair.match.id, pair.mentee.id, now=NOW)
    assert _kinds(session, pair.mentee.id) == []  # one signature is not an agreement
    sign_agreement(session, world.tenant.id, pair.match.id, pair.mentor.id, now=NOW)
    assert (
        _kinds(session, pair.mentee.id) == _kinds(session, pair.mentor.id) == ["agreement_signed"]
    )
    _meet(session, world, minutes=90, days_ago=3)
    assert "first_checkin" in _kinds(session, pair.mentor.id)
    _meet(session, world, minutes=300, days_ago=2)
    _meet(session, world, minutes=240, days_ago=1)  # 630 minutes: over ten hours
    assert _kinds(session, pair.mentee.id) == [
        "agreement_signed",
        "first_checkin",
        "hours_10",
        "three_checkins",
    ]
    session.commit()
    # Asking again finds nothing new, and the database refuses a second copy.
    assert award_milestones(session, world.tenant.id, pair.match, now=NOW) == []
    session.add(
        Milestone(
            tenant_id=world.tenant.id,
            programme_id=world.programme.id,
            match_id=pair.match.id,
            member_id=pair.mentee.id,
            kind="first_checkin",
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Milestone)) == 8


def test_time_and_a_completed_programme_bring_theirs(session: Session, world: World) -> None:
    pair = world.pair
    _meet(session, world)
    assert pair.match.started_at == NOW
    assert award_due_milestones(session, now=NOW + timedelta(days=100)) == 0
    assert award_due_milestones(session, now=NOW + timedelta(days=183)) == 2
    assert award_due_milestones(session, now=NOW + timedelta(days=184)) == 0
    close_pair(
        session,
        world.tenant.id,
        pair.match.id,
        pair.mentor.id,
        "completed",
        now=NOW + timedelta(days=190),
    )
    assert "programme_completed" in _kinds(session, pair.mentor.id)
    assert "six_months" in _kinds(session, pair.mentee.id)


def test_an_early_end_is_not_a_completed_programme(session: Session, world: World) -> None:
    pair = world.pair
    _meet(session, world)
    close_pair(
        session, world.tenant.id, pair.match.id, pair.mentee.id, "early", "moved abroad", now=NOW
    )
    assert _kinds(session, pair.mentee.id) == ["first_checkin"]


def test_the_member_page_shows_them_and_the_dashboard_counts_pairs(
    session: Session, world: World
) -> None:
    _meet(session, world)
    page = member_page(session, world.tenant.id, world.pair.mentee.id, today=TODAY)
    assert [(m.title, m.programme) for m in page.milestones] == [
        ("First check-in", world.programme.name)
    ]
    counts = milestone_counts(session, world.tenant.id, world.programme.id)
    assert counts["first_checkin"] == 1  # one pair, though both of them reached it
    assert counts["agreement_signed"] == 0
    # Another member of the tenant sees none of them.
    assert member_page(session, world.tenant.id, world.outsider.id, today=TODAY).milestones == []
