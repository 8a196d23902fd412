"""The home pages' domain functions, without Flask: what a member does next (each state
in its order, in the member's time zone), what needs a coordinator (since their last
visit), and the navigation's programmes, all within one tenant."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from checkins import CheckinDraft, log_checkin, raise_alerts
from checkins.attention import CLOSING_DAYS, pair_attention
from checkins.dashboard import programme_dashboard
from programmes import Actor, PermissionDeniedError
from programmes.errors import NotFoundError
from programmes.home import (
    AGREEMENT,
    CHECKIN,
    ENROL,
    PROPOSAL,
    SURVEY,
    coordinator_home,
    member_home,
    navigation,
)
from records import Agreement, Course, Match, Member, Participant, Programme, Tenant
from tests.support.checkins_factory import (
    NOW,
    TODAY,
    Pair,
    World,
    make_member,
    make_pair,
    make_world,
)


def _actor(member: Member, **extra: object) -> Actor:
    return Actor(tenant_id=member.tenant_id, member_id=member.id, **extra)  # type: ignore[arg-type]


def _kinds(session: Session, member: Member, now: datetime = NOW) -> list[str]:
    return [s.kind for s in member_home(session, _actor(member), now=now).steps]


def _sign(session: Session, match: Match, *sides: str) -> Agreement:
    agreement = Agreement(tenant_id=match.tenant_id, match_id=match.id,
                          goals=[{"goal": "Lead a meeting", "by": "2026-12-01"}])  # fmt: skip
    for side in sides:
        setattr(agreement, f"{side}_signed_at", NOW - timedelta(days=3))
    session.add(agreement)
    session.flush()
    return agreement


def _begun(session: Session, days_ago: int, *signed: str, **world: object) -> tuple[World, Pair]:
    """A world whose one pair began ``days_ago``, its agreement signed by ``signed``."""
    made = make_world(session, n_pairs=1, **world)  # type: ignore[arg-type]
    made.pair.match.accepted_at = NOW - timedelta(days=days_ago)
    _sign(session, made.pair.match, *signed)
    return made, made.pair


def _met(session: Session, world: World, match: Match, member: Member, days_ago: int) -> None:
    draft = CheckinDraft(met_on=TODAY - timedelta(days=days_ago), duration_minutes=45)
    log_checkin(session, world.tenant.id, match.id, member.id, draft, now=NOW)


def _programme(session: Session, world: World, name: str, status: str, **extra) -> Programme:
    programme = Programme(tenant_id=world.tenant.id, name=name, status=status,
                          starts_on=TODAY + timedelta(days=30), **extra)  # fmt: skip
    session.add(programme)
    session.flush()
    return programme


def _join(session: Session, programme: Programme, member: Member, role: str) -> Participant:
    participant = Participant(tenant_id=programme.tenant_id, programme_id=programme.id,
                              member_id=member.id, role=role,
                              capacity=2 if role == "mentor" else None,
                              enrolled_at=NOW - timedelta(days=1))  # fmt: skip
    session.add(participant)
    session.flush()
    return participant


# -- the member's home: each state ----------------------------------------------------


def test_a_proposal_to_answer_names_the_partner_until_the_member_answers(
    session: Session,
) -> None:
    world = make_world(session, n_pairs=0)
    pair = make_pair(session, world.tenant, world.programme, "Maya Mentor", "Milo Mentee",
                     status="proposed")  # fmt: skip
    pair.match.mentee_response = "pending"
    pair.match.mentor_response = "accepted"
    session.flush()
    home = member_home(session, _actor(pair.mentee), now=NOW)
    assert [s.kind for s in home.steps] == [PROPOSAL]
    step = home.steps[0]
    assert (step.programme_id, step.match_id, step.partner_name) == (
        world.programme.id, pair.match.id, "Maya Mentor")  # fmt: skip
    # The mentor has answered: nothing waits for them.
    assert _kinds(session, pair.mentor) == []
    pair.match.mentee_response = "accepted"
    session.flush()
    assert _kinds(session, pair.mentee) == []


def test_an_agreement_to_write_then_to_sign_for_the_side_that_has_not(session: Session) -> None:
    world = make_world(session, n_pairs=1)
    pair = world.pair
    home = member_home(session, _actor(pair.mentee), now=NOW)
    assert [(s.kind, s.written) for s in home.steps] == [(AGREEMENT, False)]
    _sign(session, pair.match, "mentor")
    assert [
        (s.kind, s.written) for s in member_home(session, _actor(pair.mentee), now=NOW).steps
    ] == [(AGREEMENT, True)]
    assert _kinds(session, pair.mentor) == []


def test_a_check_in_due_gives_the_day_it_fell_due(session: Session) -> None:
    _, pair = _begun(session, 29, "mentor", "mentee")
    home = member_home(session, _actor(pair.mentor), now=NOW)
    assert [s.kind for s in home.steps] == [CHECKIN]
    # The cadence (28 days) ran out yesterday.
    assert home.steps[0].due_on == TODAY - timedelta(days=1)
    assert home.steps[0].partner_name == pair.mentee.name


def test_no_check_in_is_due_before_an_agreement_the_programme_requires(
    session: Session,
) -> None:
    _, pair = _begun(session, 29, "mentee", settings={"require_agreement": True})
    # The mentor signs first; a check-in cannot be logged before that.
    assert _kinds(session, pair.mentor) == [AGREEMENT]
    assert _kinds(session, pair.mentee) == []


def test_an_open_survey(session: Session) -> None:
    world, pair = _begun(session, 31, "mentor", "mentee")
    _met(session, world, pair.match, pair.mentor, days_ago=2)
    home = member_home(session, _actor(pair.mentee), now=NOW)
    assert [(s.kind, s.survey) for s in home.steps] == [(SURVEY, "day30")]
    assert home.next_checkin_on == TODAY + timedelta(days=26)


def test_a_programme_to_enrol_in_only_if_open_to_the_member(session: Session) -> None:
    world = make_world(session, n_pairs=0)
    member = make_member(session, world.tenant, "Erin Enrolling")
    open_one = _programme(session, world, "Open to all", "enrolling")
    _programme(session, world, "Not yet open", "draft")
    _programme(session, world, "Running already", "running")
    course = Course(tenant_id=world.tenant.id, source="lti", external_id="c-9", title="Other")
    session.add(course)
    session.flush()
    _programme(session, world, "Another course's", "enrolling", course_id=course.id)
    joined = _programme(session, world, "Joined already", "enrolling")
    _join(session, joined, member, "mentee")
    home = member_home(session, _actor(member), now=NOW)
    assert [(s.kind, s.programme_id) for s in home.steps] == [(ENROL, open_one.id)]


def test_nothing_to_do_says_when_the_next_check_in_is(session: Session) -> None:
    world = make_world(session, n_pairs=1)
    pair = world.pair
    _sign(session, pair.match, "mentor", "mentee")
    _met(session, world, pair.match, pair.mentee, days_ago=16)
    home = member_home(session, _actor(pair.mentee), now=NOW)
    assert home.steps == ()
    assert home.days_to_next_checkin == 12


def test_a_member_with_nothing_at_all(session: Session) -> None:
    world = make_world(session, n_pairs=0)
    home = member_home(session, _actor(world.outsider), now=NOW)
    assert home.steps == () and home.next_checkin_on is None and home.days_to_next_checkin is None


def test_every_state_at_once_comes_in_order(session: Session) -> None:
    world = make_world(session, n_pairs=0)
    me = make_member(session, world.tenant, "Ada Allround")
    partner = make_member(session, world.tenant, "Bea Busy")
    mentee = make_member(session, world.tenant, "Cal Curious")
    # Running for 40 days without an agreement or a meeting: agreement, check-in, survey.
    running = _programme(session, world, "Spring circle", "running")
    running.starts_on = TODAY - timedelta(days=40)
    mentor_side = _join(session, running, me, "mentor")
    mentee_side = _join(session, running, mentee, "mentee")
    session.add(Match(tenant_id=world.tenant.id, programme_id=running.id,
                      mentor_participant_id=mentor_side.id, mentee_participant_id=mentee_side.id,
                      status="accepted", mentor_response="accepted", mentee_response="accepted",
                      accepted_at=NOW - timedelta(days=40)))  # fmt: skip
    # Proposed in another programme, waiting for me.
    autumn = _programme(session, world, "Autumn circle", "matching")
    mine = _join(session, autumn, me, "mentee")
    theirs = _join(session, autumn, partner, "mentor")
    session.add(Match(tenant_id=world.tenant.id, programme_id=autumn.id,
                      mentor_participant_id=theirs.id, mentee_participant_id=mine.id,
                      status="proposed", mentor_response="accepted"))  # fmt: skip
    _programme(session, world, "Winter circle", "enrolling")
    session.flush()
    home = member_home(session, _actor(me), now=NOW)
    assert [s.kind for s in home.steps] == [PROPOSAL, AGREEMENT, CHECKIN, SURVEY, ENROL]
    spring = "Spring circle"
    assert [s.programme_name for s in home.steps] == [
        "Autumn circle", spring, spring, spring, "Winter circle"]  # fmt: skip


def test_the_days_are_the_members_own(session: Session) -> None:
    world = make_world(session, n_pairs=1)
    pair = world.pair
    _sign(session, pair.match, "mentor", "mentee")
    _met(session, world, pair.match, pair.mentee, days_ago=27)
    # Noon in UTC is already tomorrow in Auckland, where the check-in falls due.
    utc = member_home(session, _actor(pair.mentee), now=NOW)
    assert utc.steps == () and utc.days_to_next_checkin == 1 and utc.time_zone == "UTC"
    pair.mentee.time_zone = "Pacific/Auckland"
    session.flush()
    auckland = member_home(session, _actor(pair.mentee), now=NOW)
    assert auckland.today == TODAY + timedelta(days=1) and auckland.time_zone == "Pacific/Auckland"
    assert [(s.kind, s.due_on) for s in auckland.steps] == [(CHECKIN, TODAY + timedelta(days=1))]
    # A zone no one knows (a sync's typo) counts in UTC, and says so.
    pair.mentee.time_zone = "Mars/Olympus_Mons"
    session.flush()
    unknown = member_home(session, _actor(pair.mentee), now=NOW)
    assert unknown.time_zone == "UTC" and unknown.today == TODAY and unknown.steps == ()


def test_another_tenants_rows_never_appear(session: Session) -> None:
    world = make_world(session, n_pairs=0)
    other = make_world(session, slug="globex", n_pairs=1)
    _programme(session, other, "Globex open programme", "enrolling")
    assert _kinds(session, world.outsider) == []
    # A member id of one tenant under another tenant's name is nobody.
    with pytest.raises(NotFoundError):
        member_home(session, Actor(tenant_id=world.tenant.id, member_id=other.pair.mentee.id))


# -- the coordinator's home ------------------------------------------------------------


def _coordinator(world: World, **extra: object) -> Actor:
    return _actor(world.coordinator, coordinator=True, **extra)


def test_enrolments_since_the_last_visit_of_an_earlier_sitting(session: Session) -> None:
    world = make_world(session, n_pairs=2)
    actor = _coordinator(world)
    first = coordinator_home(session, actor, now=NOW)
    row = first.programmes[0]
    assert first.since is None and row.n_new == row.n_enrolled == 4
    later = NOW + timedelta(hours=3)
    newcomer = make_member(session, world.tenant, "Nia Newcomer")
    joined = _join(session, world.programme, newcomer, "mentee")
    joined.enrolled_at = later - timedelta(hours=1)
    session.flush()
    second = coordinator_home(session, actor, now=later)
    assert second.since == NOW
    assert (second.programmes[0].n_new, second.programmes[0].n_enrolled) == (1, 5)
    # Coming back within the sitting keeps what was new when it began.
    again = coordinator_home(session, actor, now=later + timedelta(minutes=20))
    assert again.since == NOW and again.programmes[0].n_new == 1
    # The next sitting counts from the last visit of this one.
    next_day = coordinator_home(session, actor, now=later + timedelta(days=1))
    assert next_day.since == later + timedelta(minutes=20) and next_day.programmes[0].n_new == 0


def test_what_needs_attention_in_a_running_programme(session: Session) -> None:
    world = make_world(session, n_pairs=3)
    quiet, unhappy, fine = (p.match for p in world.pairs)
    quiet.accepted_at = NOW - timedelta(days=40)  # no meeting for 40 days: quiet
    unhappy.min_satisfaction = 2
    unhappy.last_checkin_on = TODAY - timedelta(days=3)
    fine.last_checkin_on = TODAY - timedelta(days=3)
    session.flush()
    raise_alerts(session, world.tenant.id, world.programme.id, TODAY)
    draft_programme = _programme(session, world, "Next cohort", "draft")
    home = coordinator_home(session, _coordinator(world), now=NOW)
    rows = {r.programme.id: r for r in home.programmes}
    row = rows[world.programme.id]
    assert (row.n_quiet, row.n_at_risk) == (1, 1)
    dashboard = programme_dashboard(session, world.tenant.id, world.programme.id, TODAY)
    assert (row.n_quiet, row.n_at_risk) == (dashboard.n_quiet, dashboard.n_at_risk)
    assert row.n_alerts == 2 and row.needs_attention
    # The quiet pair's day-30 survey opened ten days ago and closes in four.
    [closing] = row.closing
    assert (closing.survey, closing.n_pairs) == ("day30", 1)
    assert closing.closes_on == TODAY + timedelta(days=4)
    # A programme not yet open for enrolment is to finish and open.
    assert rows[draft_programme.id].needs_attention and rows[draft_programme.id].n_new == 0


def test_a_fixed_day_survey_closing_counts_the_pairs_yet_to_answer(session: Session) -> None:
    world = make_world(session, n_pairs=2, starts_on=TODAY - timedelta(days=80))
    # A 140-day programme: the mid-point survey opened on day 70, ten days ago.
    world.programme.ends_on = world.programme.starts_on + timedelta(days=140)
    world.pairs[0].match.midpoint_answers = 2
    session.flush()
    attention = pair_attention(session, world.tenant.id, world.programme, TODAY)
    closes = world.programme.starts_on + timedelta(days=70 + 14)
    assert closes - TODAY <= timedelta(days=CLOSING_DAYS)
    assert [(c.survey, c.closes_on, c.n_pairs) for c in attention.closing] == [
        ("midpoint", closes, 1)
    ]


def test_draft_pairs_not_yet_published(session: Session) -> None:
    world = make_world(session, n_pairs=1)
    world.pair.match.status = "draft"
    session.flush()
    row = coordinator_home(session, _coordinator(world), now=NOW).programmes[0]
    assert row.n_drafts == 1 and row.needs_attention


def test_only_the_programmes_the_one_rule_admits(session: Session) -> None:
    world = make_world(session, n_pairs=0)
    other = make_world(session, slug="globex", n_pairs=0)
    ours = Course(tenant_id=world.tenant.id, source="lti", external_id="c-1", title="Ours 101")
    theirs = Course(tenant_id=world.tenant.id, source="lti", external_id="c-2", title="Theirs")
    session.add_all([ours, theirs])
    session.flush()
    mine = _programme(session, world, "Ours", "enrolling", course_id=ours.id)
    _programme(session, world, "Theirs", "enrolling", course_id=theirs.id)
    closed = _programme(session, world, "Old", "closed", course_id=ours.id)
    actor = _coordinator(world, course_id=ours.id)
    listed = [r.programme.id for r in coordinator_home(session, actor, now=NOW).programmes]
    # Tenant-wide programmes and the course's own; closed ones last; never another tenant's.
    assert set(listed) == {world.programme.id, mine.id, closed.id} and listed[-1] == closed.id
    assert other.programme.id not in listed
    nav = navigation(session, actor)
    assert nav.course_title == "Ours 101"
    assert {pid for pid, _ in nav.dashboards} == {world.programme.id, mine.id}
    with pytest.raises(PermissionDeniedError):
        coordinator_home(session, _actor(world.coordinator), now=NOW)


def test_a_members_navigation_has_no_dashboards_and_no_other_tenants_course(
    session: Session,
) -> None:
    world = make_world(session, n_pairs=0)
    other_tenant = session.get(Tenant, make_world(session, slug="globex", n_pairs=0).tenant.id)
    course = Course(tenant_id=other_tenant.id, source="lti", external_id="c-1", title="Globex 101")
    session.add(course)
    session.flush()
    nav = navigation(session, _actor(world.outsider, course_id=course.id))
    assert nav.course_title is None and nav.dashboards == ()


def test_visits_are_each_coordinators_own(session: Session) -> None:
    world = make_world(session, n_pairs=1)
    second = make_member(session, world.tenant, "Cy Second")
    coordinator_home(session, _coordinator(world), now=NOW)
    later = coordinator_home(session, _actor(second, coordinator=True), now=NOW + timedelta(days=1))
    assert later.since is None


def test_a_member_in_a_running_pair_is_answered_in_a_few_statements(session: Session) -> None:
    """Every launch lands on the member's home: its cost is one query per kind of row,
    not per match (the pair's surveys once re-read the match, both participants and the
    programme; the partner's name took two queries)."""
    world, pair = _begun(session, 40, "mentor", "mentee")
    _met(session, world, pair.match, pair.mentee, 20)
    session.expunge_all()  # a new request: nothing loaded yet
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        home = member_home(session, _actor(pair.mentee), now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [s.kind for s in home.steps] == [SURVEY]
    # the member, their participations, matches with programmes and agreements, partner
    # names, the pair's answered surveys, the pair's check-in state, the programmes open
    # to them.
    assert len(statements) <= 7, "\n".join(statements)
