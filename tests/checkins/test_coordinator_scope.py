"""Issue 12, finding 4: a coordinator reaches only their course's programmes, and only the
matches and alerts of the programme in the URL. Finding 7: a mentor loses the mentee's
learning history when the pair ends.

Each refusal is a plain 404, exactly one ``access.refused`` audit row, and no other write.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkins import (
    CheckinDraft,
    PairNotRunning,
    close_pair,
    get_agreement,
    log_checkin,
    save_agreement,
    set_learning_history_consent,
)
from checkins.agreements import AgreementDraft
from records import (
    Alert,
    AuditEvent,
    Course,
    Enrolment,
    LearningRecord,
    Match,
    Programme,
    utcnow,
)
from tests.support.checkins_factory import World, make_world
from tests.support.checkins_web import session_cookie


def _course(session: Session, world: World, external_id: str) -> Course:
    course = Course(
        tenant_id=world.tenant.id, source="lti", external_id=external_id, title=external_id
    )
    session.add(course)
    session.flush()
    return course


@pytest.fixture
def scoped(session: Session) -> tuple[World, Course, Course, Alert]:
    """A programme linked to course A, with an open alert; course B beside it."""
    world = make_world(session, n_pairs=2)
    course_a, course_b = _course(session, world, "A"), _course(session, world, "B")
    world.programme.course_id = course_a.id
    alert = Alert(tenant_id=world.tenant.id, programme_id=world.programme.id,
                  match_id=world.pair.match.id, kind="member_flag",
                  detail={"reason": "x"})  # fmt: skip
    session.add(alert)
    session.commit()
    return world, course_a, course_b, alert


def _client_as(app: Flask, world: World, course: Course) -> FlaskClient:
    """A browser signed in as the world's coordinator, launched from ``course``."""
    client = app.test_client()
    name, value = session_cookie(app, world.tenant.id, world.coordinator.id, coordinator=True,
                                 course_id=course.id)  # fmt: skip
    client.set_cookie(name, value)
    return client


def _refusals(session: Session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "access.refused")))


def _routes(world: World, alert: Alert, programme_id: int | None = None) -> list[tuple[str, str]]:
    pid = programme_id or world.programme.id
    return [
        ("GET", f"/dashboard/{pid}"),
        ("GET", f"/dashboard/{pid}/evaluation.csv?named=1"),
        ("GET", f"/dashboard/{pid}/evaluation.csv"),
        ("POST", f"/dashboard/{pid}/alerts/{alert.id}/resolve"),
        ("POST", f"/dashboard/{pid}/matches/{world.pair.match.id}/rematch"),
    ]


def _call(client: FlaskClient, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": "test-csrf", "reason": "inappropriate"})


def _refused_once(session: Session, client: FlaskClient, method: str, url: str) -> AuditEvent:
    """Call ``url``: a 404 with no one's name on it and exactly one new refusal row."""
    before = len(_refusals(session))
    answer = _call(client, method, url)
    assert answer.status_code == 404, url
    assert "Milo" not in answer.text and "Maya" not in answer.text
    rows = _refusals(session)
    assert len(rows) == before + 1, url
    return rows[-1]


def test_another_courses_instructor_gets_404_on_every_dashboard_route(
    app: Flask, session: Session, scoped
) -> None:
    world, _, course_b, alert = scoped
    client = _client_as(app, world, course_b)
    for method, url in _routes(world, alert):
        row = _refused_once(session, client, method, url)
        assert row.detail["reason"] == "other_course"
        assert row.actor_member_id == world.coordinator.id
    # Nothing else was written: the alert is open, the pair still running.
    assert session.get(Alert, alert.id).status == "open"
    assert session.get(Match, world.pair.match.id).status == "accepted"


def test_the_programmes_own_coordinator_still_gets_through(
    app: Flask, session: Session, scoped
) -> None:
    world, course_a, _, alert = scoped
    client = _client_as(app, world, course_a)
    for method, url in _routes(world, alert):
        assert _call(client, method, url).status_code in (200, 303), url
    session.expire_all()
    assert session.get(Alert, alert.id).status == "resolved"
    assert session.get(Match, world.pair.match.id).status == "rematched"
    assert _refusals(session) == []


def test_a_match_or_alert_of_another_programme_in_the_url_is_404(
    app: Flask, session: Session, scoped
) -> None:
    world, course_a, _, alert = scoped
    # A second programme in the same course: the coordinator may see both, but a match or
    # alert of the first must not be reachable through the second's URL.
    other = Programme(tenant_id=world.tenant.id, name="Other", status="running",
                      starts_on=world.programme.starts_on, ends_on=world.programme.ends_on,
                      cadence_days=28, settings={}, course_id=course_a.id)  # fmt: skip
    session.add(other)
    session.commit()
    client = _client_as(app, world, course_a)
    for method, url in _routes(world, alert, other.id)[3:]:
        assert _refused_once(session, client, method, url).detail["reason"] == "other_programme"
    assert session.get(Alert, alert.id).status == "open"
    assert session.get(Match, world.pair.match.id).status == "accepted"


def _sharing_pair(session: Session, world: World):
    pair = world.pair
    tenant = world.tenant.id
    save_agreement(session, tenant, pair.match.id, pair.mentee.id,
                   AgreementDraft(goals=[{"goal": "Grow", "by": "2999-12-01"}],
                                  meeting_frequency="monthly", channel="video",
                                  confidentiality="kept", out_of_scope="none"))  # fmt: skip
    set_learning_history_consent(session, tenant, pair.match.id, pair.mentee.id, True)
    course = _course(session, world, "SECRET-COURSE-TITLE")
    session.add(Enrolment(tenant_id=tenant, member_id=pair.mentee.id, course_id=course.id,
                          role="member", source="moodle"))  # fmt: skip
    session.add(LearningRecord(tenant_id=tenant, member_id=pair.mentee.id, source="moodle",
                               course_id=course.id, record_key="course:1:completion",
                               kind="completion", completed=True))  # fmt: skip
    session.commit()
    return pair


def _mentor_view(app: Flask, world: World, match_id: int):
    client = app.test_client()
    name, value = session_cookie(app, world.tenant.id, world.pair.mentor.id)
    client.set_cookie(name, value)
    return client.get(f"/checkins/matches/{match_id}/learning")


@pytest.mark.parametrize("ending", ["close", "rematch"])
def test_the_mentor_loses_the_learning_history_when_the_pair_ends(
    app: Flask, session: Session, ending: str
) -> None:
    world = make_world(session)
    pair = _sharing_pair(session, world)
    seen = _mentor_view(app, world, pair.match.id)
    assert seen.status_code == 200 and "SECRET-COURSE-TITLE" in seen.text
    if ending == "close":
        close_pair(session, world.tenant.id, pair.match.id, pair.mentee.id, "completed")
    else:
        client = app.test_client()
        name, value = session_cookie(app, world.tenant.id, world.coordinator.id, coordinator=True)
        client.set_cookie(name, value)
        url = f"/dashboard/{world.programme.id}/matches/{pair.match.id}/rematch"
        answer = client.post(url, data={"csrf_token": "test-csrf", "reason": "inappropriate"})
        assert answer.status_code == 303
    session.commit()
    page = _mentor_view(app, world, pair.match.id)
    assert page.status_code == 403 and "SECRET-COURSE-TITLE" not in page.text
    session.expire_all()
    agreement = get_agreement(session, world.tenant.id, pair.match.id, pair.mentor.id)
    assert agreement is not None and agreement.share_learning_history is False
    # The mentee cannot re-open consent on an ended pair either.
    with pytest.raises(PairNotRunning):
        set_learning_history_consent(session, world.tenant.id, pair.match.id, pair.mentee.id, True)
    session.rollback()


def test_a_check_in_of_another_pair_in_the_url_is_404(app: Flask, session: Session) -> None:
    """The third child object: a check-in is reached only through its own pair."""
    world = make_world(session, n_pairs=2)
    first, second = world.pairs
    checkin = log_checkin(session, world.tenant.id, second.match.id, second.mentee.id,
                          CheckinDraft(met_on=utcnow().date(), duration_minutes=30,
                                       next_meeting_at=utcnow() + timedelta(days=9)))  # fmt: skip
    session.commit()
    client = app.test_client()
    name, value = session_cookie(app, world.tenant.id, first.mentor.id)
    client.set_cookie(name, value)
    url = f"/checkins/matches/{first.match.id}/checkins/{checkin.id}/invite.ics"
    assert client.get(url).status_code == 404
