"""Readiness rules: a course to complete and a guide to read before a member is matched.

One function decides (``programmes.missing_requirements``); matching, mentee choice,
shortlists, hand-made pairs, the match-day board and the member's page all ask it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors import sync
from programmes import (
    Actor,
    ConflictError,
    InvalidInputError,
    ReadinessRule,
    assign_pair,
    create_from_template,
    draft_board,
    mark_guide_read,
    member_programme,
    open_shortlists,
    ranked_mentors,
    readiness_figures,
    request_mentor,
    run_matching,
    set_readiness,
)
from records import (
    AuditEvent,
    Course,
    Database,
    GuideRead,
    LearningRecord,
    Match,
    Member,
    Participant,
    Tenant,
    utcnow,
)
from tests.connectors.conftest import add_source
from tests.connectors.test_moodle import ENDPOINT, connector, moodle_site

from .conftest import Demo, answers


def _course(session: Session, tenant_id: int, title: str = "Mentor essentials") -> Course:
    course = Course(tenant_id=tenant_id, source="moodle", external_id="77", title=title)
    session.add(course)
    session.flush()
    return course


def _complete(session: Session, member_id: int, course: Course) -> None:
    session.add(
        LearningRecord(
            tenant_id=course.tenant_id,
            member_id=member_id,
            course_id=course.id,
            source="moodle",
            record_key=f"course:{course.external_id}:completion",
            kind="completion",
            completed=True,
            recorded_at=utcnow(),
        )
    )
    session.flush()


@responses.activate
def test_a_sync_bringing_the_completion_makes_the_mentor_matchable(database: Database) -> None:
    # First sync: Moodle has the course and both people, but no completion yet.
    responses.add_callback(
        responses.POST,
        ENDPOINT,
        callback=moodle_site(
            [], errors={"core_completion_get_course_completion_status": "error_nocriteriaset"}
        ),
    )
    source = add_source(database, "moodle")
    assert sync(database, source.tenant_id, source.connector_id, connector()).status == "succeeded"
    coordinator = Actor(tenant_id=source.tenant_id, member_id=None, coordinator=True)
    with database.transaction() as session:
        people = {m.email.lower(): m for m in session.scalars(select(Member))}
        course = session.scalars(select(Course).where(Course.external_id == "42")).one()
        programme = create_from_template(session, coordinator, "one_to_one")
        ada = Participant(
            tenant_id=source.tenant_id,
            programme_id=programme.id,
            member_id=people["ada@example.org"].id,
            role="mentor",
            answers=answers("mentor", 1),
            capacity=2,
        )
        bo = Participant(
            tenant_id=source.tenant_id,
            programme_id=programme.id,
            member_id=people["bo@example.org"].id,
            role="mentee",
            answers=answers("mentee", 2),
        )
        session.add_all([ada, bo])
        session.flush()
        set_readiness(
            session, coordinator, programme.id, {"mentor": ReadinessRule(course_id=course.id)}
        )
        ids = {"programme": programme.id, "ada": ada.id, "bo": bo.id, "course": course.id}
    ada_actor = Actor(tenant_id=source.tenant_id, member_id=people["ada@example.org"].id)

    with database.transaction() as session, pytest.raises(InvalidInputError, match="ready yet"):
        run_matching(session, coordinator, ids["programme"])
    with database.transaction() as session:
        board = draft_board(session, coordinator, ids["programme"])
        assert board.not_ready == [
            {
                "participant_id": ids["ada"],
                "name": "Ada Lovelace",
                "role": "mentor",
                "reason": "not ready: complete Mentoring essentials",
            }
        ]
        assert board.mentors == []
        page = member_programme(session, ada_actor, ids["programme"])
        [missing] = page.missing
        assert missing.text == "Complete Mentoring essentials"
        # The link is the course's page in the Moodle the connector reads.
        assert missing.url == "https://x/course/view.php?id=42"

    # Second sync: Moodle now reports Ada's completion. Nobody touches the programme.
    responses.reset()
    responses.add_callback(responses.POST, ENDPOINT, callback=moodle_site([]))
    result = sync(database, source.tenant_id, source.connector_id, connector(), full=True)
    assert result.status == "succeeded"
    with database.transaction() as session:
        assert member_programme(session, ada_actor, ids["programme"]).missing == []
        summary = run_matching(session, coordinator, ids["programme"])
        assert summary.proposed == 1 and summary.mentors == 1
        pair = session.scalars(select(Match)).one()
        assert (pair.mentor_participant_id, pair.mentee_participant_id) == (ids["ada"], ids["bo"])
        assert draft_board(session, coordinator, ids["programme"]).not_ready == []


def _mentor_rule(session: Session, demo: Demo, ready: int) -> Course:
    """Mentors must complete a course; the first ``ready`` demo mentors have."""
    course = _course(session, demo.tenant.id)
    for mentor in demo.mentors[:ready]:
        _complete(session, mentor.member_id, course)
    set_readiness(
        session, demo.coordinator, demo.programme.id, {"mentor": ReadinessRule(course_id=course.id)}
    )
    return course


def test_matching_leaves_out_mentors_who_are_not_ready(session: Session, demo: Demo) -> None:
    _mentor_rule(session, demo, ready=3)
    ready = {m.id for m in demo.mentors[:3]}
    run_matching(session, demo.coordinator, demo.programme.id)
    drafts = session.scalars(select(Match).where(Match.programme_id == demo.programme.id)).all()
    assert drafts and {m.mentor_participant_id for m in drafts} <= ready
    board = draft_board(session, demo.coordinator, demo.programme.id)
    assert {row["participant_id"] for row in board.not_ready} == {m.id for m in demo.mentors[3:]}
    assert all(row["reason"] == "not ready: complete Mentor essentials" for row in board.not_ready)
    assert {m.participant_id for m in board.mentors} == ready


def test_a_coordinator_cannot_pair_someone_who_is_not_ready(session: Session, demo: Demo) -> None:
    _mentor_rule(session, demo, ready=1)
    with pytest.raises(ConflictError, match="mentor is not ready: complete Mentor essentials"):
        assign_pair(
            session, demo.coordinator, demo.programme.id, demo.mentees[0].id, demo.mentors[1].id
        )
    match, _warnings = assign_pair(
        session, demo.coordinator, demo.programme.id, demo.mentees[0].id, demo.mentors[0].id
    )
    assert match.mentor_participant_id == demo.mentors[0].id


def test_shortlists_and_mentee_choice_offer_only_ready_mentors(
    session: Session, demo: Demo
) -> None:
    _mentor_rule(session, demo, ready=4)
    ready = {m.id for m in demo.mentors[:4]}
    demo.programme.matching_mode = "hybrid"
    open_shortlists(session, demo.coordinator, demo.programme.id, utcnow() + timedelta(days=3))
    listed = {m for ids in demo.programme.settings["shortlists"].values() for m in ids}
    assert listed and listed <= ready

    demo.programme.matching_mode = "mentee_choice"
    session.flush()
    mentee = demo.actor_for(demo.mentees[0])
    offered = {p.participant_id for p in ranked_mentors(session, mentee, demo.programme.id)}
    assert offered and offered <= ready
    not_ready = demo.mentors[5]
    with pytest.raises(InvalidInputError, match="cannot request this mentor"):
        request_mentor(session, mentee, demo.programme.id, not_ready.id)


def test_a_mentee_reads_the_guide_then_may_choose(session: Session, demo: Demo) -> None:
    demo.programme.matching_mode = "mentee_choice"
    set_readiness(
        session, demo.coordinator, demo.programme.id, {"mentee": ReadinessRule(guide=True)}
    )
    mentee = demo.actor_for(demo.mentees[0])
    page = member_programme(session, mentee, demo.programme.id)
    assert [(r.kind, r.text, r.role) for r in page.missing] == [
        ("guide", "Read the mentee guide", "mentee")
    ]
    with pytest.raises(ConflictError, match="not ready: read the mentee guide"):
        ranked_mentors(session, mentee, demo.programme.id)
    # Mentors have no rule: the guide is asked of mentees only.
    assert (
        member_programme(session, demo.actor_for(demo.mentors[0]), demo.programme.id).missing == []
    )

    assert mark_guide_read(session, mentee, demo.programme.id, "mentee") is True
    assert mark_guide_read(session, mentee, demo.programme.id, "mentee") is False
    reads = session.scalar(select(func.count()).select_from(GuideRead))
    assert reads == 1
    assert member_programme(session, mentee, demo.programme.id).missing == []
    assert ranked_mentors(session, mentee, demo.programme.id)


def test_rules_only_name_courses_of_the_tenant(session: Session, demo: Demo) -> None:
    other = Tenant(slug="elsewhere", name="Elsewhere")
    session.add(other)
    session.flush()
    foreign = _course(session, other.id, "Their course")
    session.commit()
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(InvalidInputError) as refused:
        set_readiness(
            session,
            demo.coordinator,
            demo.programme.id,
            {"mentor": ReadinessRule(course_id=foreign.id)},
        )
    assert refused.value.problems == {"mentor_course": "Pick one of the courses listed."}
    session.rollback()
    assert "readiness" not in (demo.programme.settings or {})
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    member = demo.actor_for(demo.mentees[0])
    with pytest.raises(Exception, match="Only the programme's coordinators"):
        set_readiness(session, member, demo.programme.id, {"mentee": ReadinessRule(guide=True)})


def test_dashboard_figures_share_ready_and_days_to_ready(session: Session, demo: Demo) -> None:
    course = _course(session, demo.tenant.id)
    for days, mentor in zip((2, 4, 9), demo.mentors[:3], strict=True):
        _complete(session, mentor.member_id, course)
        record = session.scalars(
            select(LearningRecord).where(LearningRecord.member_id == mentor.member_id)
        ).one()
        record.recorded_at = mentor.enrolled_at + timedelta(days=days)
    set_readiness(
        session,
        demo.coordinator,
        demo.programme.id,
        {"mentor": ReadinessRule(course_id=course.id), "mentee": ReadinessRule(guide=True)},
    )
    mark_guide_read(session, demo.actor_for(demo.mentees[0]), demo.programme.id, "mentee")
    figures = readiness_figures(session, demo.coordinator, demo.programme.id)
    assert (figures.mentors_ready, figures.mentors) == (3, len(demo.mentors))
    assert figures.mentor_share == pytest.approx(3 / len(demo.mentors))
    assert (figures.mentees_ready, figures.mentees) == (1, len(demo.mentees))
    assert figures.guides_read == {"mentor": 0, "mentee": 1}
    # Mentors took 2, 4 and 9 days; the mentee read the guide on the day (about 0).
    assert figures.median_days_to_ready == pytest.approx(3.0, abs=0.1)
