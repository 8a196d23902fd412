"""A milestone reaches the LMS gradebook through the existing AGS path, named."""

from __future__ import annotations

from datetime import date, timedelta

import records
from checkins import (
    AgreementDraft,
    CheckinDraft,
    award_due_milestones,
    close_pair,
    log_checkin,
    save_agreement,
    sign_agreement,
)
from platforms import defer_progress, post_progress
from records import Match, Participant, Programme, utcnow
from tests.support.jobs import run_jobs
from tests.support.lti_platform import LEARNER, Person

from .test_advantage import ADA, GRACE, _member_id, _placed_programme

BO = Person("user-2", "Bo", "Chen", "bo@example.edu", roles=[LEARNER])


def _pair_in_a_graded_programme(app, client, platform):  # type: ignore[no-untyped-def]
    """A placed programme with a line item, Ada mentoring Bo; returns ids and a poster."""
    programme_id = _placed_programme(app, platform)
    # Only a coordinator's launch records the programme's line item (issue 12).
    for person in (GRACE, ADA, BO):
        platform.launch(client, person, custom={"tandem_programme_id": str(programme_id)}, ags=True)
    ada, bo = _member_id(app, "user-1"), _member_id(app, "user-2")
    box = app.extensions["tandem.secrets"]

    def poster(*args, **kwargs):  # the AGS service, with the app's secret box
        return post_progress(*args, box=box, **kwargs)

    with app.app_context(), records.get_database(app).transaction() as session:
        programme = session.get(Programme, programme_id)
        if programme.lineitem_url is None:  # the launch gave only the line-items URL
            post_progress(session, platform.tenant_id, programme_id, ada, 0, 5, box=box)
        mentor = Participant(
            tenant_id=platform.tenant_id, programme_id=programme_id, member_id=ada, role="mentor"
        )
        mentee = Participant(
            tenant_id=platform.tenant_id, programme_id=programme_id, member_id=bo, role="mentee"
        )
        session.add_all([mentor, mentee])
        session.flush()
        match = Match(
            tenant_id=platform.tenant_id,
            programme_id=programme_id,
            mentor_participant_id=mentor.id,
            mentee_participant_id=mentee.id,
            status="accepted",
        )
        session.add(match)
        session.flush()
        match_id = match.id
    return programme_id, match_id, ada, bo, poster


def test_milestones_are_posted_to_the_line_item_by_name(app, client, platform) -> None:
    _, match_id, ada, bo, poster = _pair_in_a_graded_programme(app, client, platform)
    with app.app_context(), records.get_database(app).transaction() as session:
        save_agreement(
            session,
            platform.tenant_id,
            match_id,
            bo,
            AgreementDraft(
                goals=[
                    {"goal": "Lead a meeting", "by": (date.today() + timedelta(30)).isoformat()}
                ],
                meeting_frequency="monthly",
                channel="video",
                confidentiality="between us",
                out_of_scope="",
            ),
        )
        sign_agreement(session, platform.tenant_id, match_id, bo, poster=poster)
        sign_agreement(session, platform.tenant_id, match_id, ada, poster=poster)
        log_checkin(
            session,
            platform.tenant_id,
            match_id,
            bo,
            CheckinDraft(met_on=date.today(), duration_minutes=60),
            poster=poster,
        )
    named = sorted(
        (s["comment"], s["userId"], s["scoreGiven"]) for s in platform.scores if s["scoreGiven"]
    )
    assert named == [
        ("Tandem milestone: Agreement signed", "user-1", 1),
        ("Tandem milestone: Agreement signed", "user-2", 1),
        ("Tandem milestone: First check-in", "user-1", 2),
        ("Tandem milestone: First check-in", "user-2", 2),
    ]
    assert all(s["scoreMaximum"] == 5 for s in platform.scores)


def _named_scores(platform) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    # Named milestone posts only (the placement's first post carries no comment).
    return sorted(
        (s["comment"], s["userId"])
        for s in platform.scores
        if str(s.get("comment", "")).startswith("Tandem milestone")
    )


def test_a_completed_pair_posts_programme_completed(app, client, platform) -> None:
    _, match_id, _ada, bo, poster = _pair_in_a_graded_programme(app, client, platform)
    with app.app_context(), records.get_database(app).transaction() as session:
        close_pair(session, platform.tenant_id, match_id, bo, "completed", poster=poster)
    assert _named_scores(platform) == [
        ("Tandem milestone: Programme completed", "user-1"),
        ("Tandem milestone: Programme completed", "user-2"),
    ]


def test_six_months_together_is_posted_by_the_reminders_run(app, client, platform) -> None:
    _, match_id, _ada, _bo, poster = _pair_in_a_graded_programme(app, client, platform)
    now = utcnow()
    with app.app_context(), records.get_database(app).transaction() as session:
        session.get(Match, match_id).started_at = now - timedelta(days=183)
        session.flush()
        assert award_due_milestones(session, now, poster=poster) == 2
        assert award_due_milestones(session, now, poster=poster) == 0  # once only
    assert _named_scores(platform) == [
        ("Tandem milestone: Six months of mentoring", "user-1"),
        ("Tandem milestone: Six months of mentoring", "user-2"),
    ]


def test_the_web_layers_poster_posts_through_a_job(app, client, platform) -> None:
    """Issue 18: a member's step only queues the AGS post (in its own transaction); the
    job posts it, so an LMS that is down is retried instead of slowing the member."""
    _, match_id, _ada, bo, _ = _pair_in_a_graded_programme(app, client, platform)
    before = len(platform.scores)
    with app.app_context(), records.get_database(app).transaction() as session:
        close_pair(session, platform.tenant_id, match_id, bo, "completed", poster=defer_progress)
        assert len(platform.scores) == before  # queued, not sent, inside the step
    run_jobs(app)
    assert _named_scores(platform) == [
        ("Tandem milestone: Programme completed", "user-1"),
        ("Tandem milestone: Programme completed", "user-2"),
    ]
