"""Check-ins: the bad inputs each get a clear message and write nothing; notes stay private."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkins import (
    AgreementDraft,
    AgreementRequired,
    CheckinDraft,
    InvalidInput,
    NotAllowed,
    NotFound,
    PairNotRunning,
    close_pair,
    list_checkins,
    log_checkin,
    meeting_invite,
    mentoring_record,
    save_agreement,
    sign_agreement,
)
from records import Alert, AuditEvent, CheckIn
from tests.support.checkins_factory import NOW, TODAY, World, make_world

NOTE = "SECRET-NOTE: worried about my manager"


def good(**changes) -> CheckinDraft:
    values = dict(
        met_on=TODAY - timedelta(days=1),
        duration_minutes=45,
        format="video",
        topics=["Career planning"],
        summary="Talked about the next step",
        private_notes=NOTE,
        next_meeting_at=NOW + timedelta(days=28),
    )
    values.update(changes)
    return CheckinDraft(**values)


def test_a_check_in_is_logged_and_activates_the_pair(session: Session, world: World) -> None:
    pair = world.pair
    checkin = log_checkin(session, world.tenant.id, pair.match.id, pair.mentee.id, good(), now=NOW)
    session.commit()
    assert checkin.id and pair.match.status == "active"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "checkin.logged")).one()
    assert "SECRET" not in repr(event.detail)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"met_on": TODAY + timedelta(days=1)}, "is in the future"),
        ({"duration_minutes": 0}, "between 1 minute and 24 hours"),
        ({"duration_minutes": 1441}, "between 1 minute and 24 hours"),
        ({"format": "carrier pigeon"}, "format 'carrier pigeon'"),
        ({"topics": ["Astrology"]}, "not among this programme's themes"),
        ({"next_meeting_at": NOW - timedelta(hours=1)}, "must be in the future"),
        ({"next_meeting_at": datetime(2026, 7, 1, 18, 0)}, "needs a time zone"),
    ],
)
def test_bad_check_ins_are_refused_and_nothing_is_written(
    session: Session, world: World, changes: dict, message: str
) -> None:
    pair = world.pair
    with pytest.raises(InvalidInput, match=message):
        log_checkin(
            session, world.tenant.id, pair.match.id, pair.mentor.id, good(**changes), now=NOW
        )
    session.rollback()
    assert session.scalars(select(CheckIn)).all() == []
    assert session.scalars(select(AuditEvent)).all() == []


def test_the_future_is_the_members_own_time_zone(session: Session, world: World) -> None:
    pair = world.pair
    pair.mentee.time_zone = "Pacific/Auckland"  # already 16 June there at noon UTC
    log_checkin(
        session, world.tenant.id, pair.match.id, pair.mentee.id,
        good(met_on=TODAY + timedelta(days=1)), now=NOW,
    )  # fmt: skip


def test_a_signed_agreement_can_be_required_first(session: Session) -> None:
    world = make_world(session, settings={"require_agreement": True})
    pair = world.pair
    with pytest.raises(AgreementRequired, match="sign your agreement"):
        log_checkin(session, world.tenant.id, pair.match.id, pair.mentee.id, good(), now=NOW)
    save_agreement(
        session, world.tenant.id, pair.match.id, pair.mentor.id,
        AgreementDraft(goals=[{"goal": "x", "by": TODAY + timedelta(days=9)}],
                       meeting_frequency="monthly", channel="phone",
                       confidentiality="yes", out_of_scope="none"),
        today=TODAY,
    )  # fmt: skip
    sign_agreement(session, world.tenant.id, pair.match.id, pair.mentor.id, now=NOW)
    sign_agreement(session, world.tenant.id, pair.match.id, pair.mentee.id, now=NOW)
    log_checkin(session, world.tenant.id, pair.match.id, pair.mentee.id, good(), now=NOW)


def test_only_the_pair_reads_private_notes(session: Session, world: World) -> None:
    pair, other = world.pairs
    log_checkin(session, world.tenant.id, pair.match.id, pair.mentee.id, good(), now=NOW)
    session.commit()
    for member in (pair.mentor, pair.mentee):
        notes = [
            c.private_notes
            for c in list_checkins(session, world.tenant.id, pair.match.id, member.id)
        ]
        assert notes == [NOTE]
    for outsider in (world.coordinator, world.outsider, other.mentee):
        with pytest.raises(NotAllowed):
            list_checkins(session, world.tenant.id, pair.match.id, outsider.id)
    another = make_world(session, slug="globex")
    with pytest.raises(NotFound):
        list_checkins(session, another.tenant.id, pair.match.id, pair.mentee.id)


def test_a_closed_pair_logs_no_more(session: Session, world: World) -> None:
    pair = world.pair
    close_pair(session, world.tenant.id, pair.match.id, pair.mentor.id, "completed", now=NOW)
    with pytest.raises(PairNotRunning, match="is closed"):
        log_checkin(session, world.tenant.id, pair.match.id, pair.mentee.id, good(), now=NOW)


def test_a_check_in_resolves_the_quiet_alert(session: Session, world: World) -> None:
    pair = world.pair
    session.add(Alert(tenant_id=world.tenant.id, programme_id=world.programme.id,
                      match_id=pair.match.id, kind="quiet_pair"))  # fmt: skip
    session.flush()
    log_checkin(session, world.tenant.id, pair.match.id, pair.mentee.id, good(), now=NOW)
    assert session.scalars(select(Alert.status)).all() == ["resolved"]


def test_mentoring_hours_count_the_mentors_meetings(session: Session, world: World) -> None:
    pair = world.pair
    log_checkin(session, world.tenant.id, pair.match.id, pair.mentee.id, good(), now=NOW)
    log_checkin(session, world.tenant.id, pair.match.id, pair.mentor.id,
                good(duration_minutes=75, met_on=TODAY), now=NOW)  # fmt: skip
    record = mentoring_record(session, world.tenant.id, pair.mentor.id)
    assert (record.n_meetings, record.total_minutes, record.total_hours) == (2, 120, 2.0)
    assert mentoring_record(session, world.tenant.id, pair.mentee.id).n_meetings == 0
    assert NOTE not in repr(record)


def test_invite_is_in_the_members_zone_with_its_rules() -> None:
    start = datetime(2026, 7, 1, 17, 0, tzinfo=UTC)  # 18:00 in London (summer time)
    text = meeting_invite(
        uid="checkin-1@tandem", start=start, duration_minutes=45, time_zone="Europe/London",
        summary="Mentoring: Maya and Milo", attendees=[("Maya", "maya@example.org")],
    ).decode()  # fmt: skip
    assert "DTSTART;TZID=Europe/London:20260701T180000" in text
    assert "DTEND;TZID=Europe/London:20260701T184500" in text
    assert "BEGIN:VTIMEZONE" in text and "TZID:Europe/London" in text
    assert "mailto:maya@example.org" in text
    winter = meeting_invite(
        uid="u", start=datetime(2026, 12, 1, 17, 0, tzinfo=UTC), duration_minutes=30,
        time_zone="Europe/London", summary="s",
    ).decode()  # fmt: skip
    assert "DTSTART;TZID=Europe/London:20261201T170000" in winter
