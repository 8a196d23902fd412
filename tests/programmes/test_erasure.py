"""Erasure: a member seeded into every table that can hold their data is gone from all of
them and from every export; what others need stays, de-identified."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checkins import CheckinDraft, log_checkin
from checkins.dashboard import programme_dashboard
from checkins.export import evaluation_csv
from checkins.overview import member_page
from members import PersonRecord, export_member, link_member
from programmes import (
    AlreadyErasedError,
    NotFoundError,
    erase_member,
    find_member_to_erase,
    member_data,
)
from programmes.erasure import END_REASON
from records import (
    Agreement,
    Alert,
    AuditEvent,
    Base,
    CheckIn,
    ConnectorConfig,
    Course,
    Enrolment,
    ErasureRequest,
    ExpiringValue,
    Identity,
    LearningRecord,
    Match,
    Member,
    Participant,
    Programme,
    SentReminder,
    SurveyResponse,
    SyncRun,
    record_event,
    utcnow,
)
from tests.support.checkins_factory import TODAY, World, make_member, make_pair, make_world

NAME = "Zephyrine Quillfeather"
EMAIL = "zephyrine.quillfeather@example.org"
NUMBER = "MN-778899"
SUB = "c0ffee-sub-5566"
MOODLE_ID = "4242"
# What must be nowhere after erasure (lower case; the scan lowers every cell).
TRACES = ("zephyrine", "quillfeather", NUMBER.lower(), SUB, f"moodle:{MOODLE_ID}")


def seed(session: Session) -> tuple[World, Member, Programme]:
    """The person in every table that can hold their data: a running pair in this cohort,
    a closed pair in last year's, and everything around them."""
    world = make_world(session, n_pairs=1)
    tenant = world.tenant
    last_year = Programme(tenant_id=tenant.id, name="Last year", status="closed",
                          starts_on=TODAY - timedelta(days=400),
                          ends_on=TODAY - timedelta(days=220))  # fmt: skip
    session.add(last_year)
    session.flush()
    running = make_pair(session, tenant, world.programme, "Maya Mentor9", NAME)
    person = running.mentee
    person.member_number, person.picture_url = NUMBER, "https://lms.example/pic/4242.png"
    person.time_zone, person.profile = "Europe/London", {"bio": f"I am {NAME}"}
    person.locale = "fr_CA"
    closed = make_pair(session, tenant, last_year, "Paul Partner", "Pat Placeholder",
                       status="closed")  # fmt: skip
    # The person is the mentee of last year's closed pair too.
    closed.mentee_participant.member_id = person.id
    session.delete(closed.mentee)
    closed.match.ended_at, closed.match.end_reason = utcnow() - timedelta(days=230), "completed"
    for source, external in (("lti", SUB), ("moodle", MOODLE_ID), ("email", EMAIL)):
        session.add(Identity(tenant_id=tenant.id, member_id=person.id, source=source,
                             external_id=external))  # fmt: skip
    course = Course(tenant_id=tenant.id, source="moodle", external_id="7", title="Leadership")
    session.add(course)
    session.flush()
    session.add(Enrolment(tenant_id=tenant.id, member_id=person.id, course_id=course.id,
                          role="Learner", source="moodle"))  # fmt: skip
    session.add(LearningRecord(tenant_id=tenant.id, member_id=person.id, course_id=course.id,
                               source="moodle", record_key="course:7:grade", kind="grade",
                               grade="B+", detail={"by": NAME}))  # fmt: skip
    for pair in (running, closed):
        pair.mentee_participant.answers = {"goals": f"{NAME} wants to lead", "values": ["care"]}
        pair.match.explanation = [{"text": f"{NAME} wants negotiation, which you offer"}]
        session.add(Agreement(tenant_id=tenant.id, match_id=pair.match.id,
                              goals=[{"goal": f"{NAME} leads a team", "by": "2027-01-01"}],
                              boundaries="what Zephyrine says stays here",
                              mentor_signed_at=utcnow(), mentee_signed_at=utcnow()))  # fmt: skip
    session.flush()
    met = TODAY - timedelta(days=3)
    log_checkin(session, tenant.id, running.match.id, person.id, CheckinDraft(
        met_on=met, duration_minutes=45, summary=f"{NAME} and I met",
        private_notes="Zephyrine is worried about her manager"))  # fmt: skip
    log_checkin(session, tenant.id, running.match.id, running.mentor.id, CheckinDraft(
        met_on=met, duration_minutes=30, summary="We planned the next step",
        private_notes="Quillfeather should apply for the post"))  # fmt: skip
    session.add(CheckIn(tenant_id=tenant.id, match_id=closed.match.id,
                        logged_by_participant_id=closed.mentee_participant.id,
                        met_on=TODAY - timedelta(days=300), duration_minutes=60,
                        summary="Zephyrine's first meeting", private_notes="private"))  # fmt: skip
    for pair, survey in ((closed, "end"), (running, "day30")):
        session.add(SurveyResponse(tenant_id=tenant.id, participant_id=pair.mentee_participant.id,
                                   match_id=pair.match.id, survey=survey, satisfaction=4,
                                   confidence=4, comment=f"{NAME}: it helped"))  # fmt: skip
    session.add(SurveyResponse(tenant_id=tenant.id, participant_id=closed.mentor_participant.id,
                               match_id=closed.match.id, survey="end", satisfaction=5,
                               comment="my mentee grew"))  # fmt: skip
    session.add(
        Alert(
            tenant_id=tenant.id,
            programme_id=world.programme.id,
            match_id=running.match.id,
            raised_by_member_id=person.id,
            kind="member_flag",
            detail={"reason": "my mentor is late", "side": "mentee"},
        )
    )
    session.add(Alert(tenant_id=tenant.id, programme_id=world.programme.id,
                      match_id=running.match.id, raised_by_member_id=running.mentor.id,
                      kind="member_flag",
                      detail={"reason": f"{NAME} does not answer", "side": "mentor"}))  # fmt: skip
    session.add(SentReminder(tenant_id=tenant.id, kind="checkin_due",
                             subject=f"match:{running.match.id}", period="2026-06-01",
                             recipient_member_id=person.id))  # fmt: skip
    record_event(session, tenant.id, "lti.launch", actor_member_id=person.id,
                 detail={"role": "member"}, remote_addr="198.51.100.7")  # fmt: skip
    record_event(session, tenant.id, "portal.link_sent", detail={"address": EMAIL})
    record_event(session, tenant.id, "sync.failed_row", subject=("identity", f"moodle:{MOODLE_ID}"),
                 detail={"external_id": MOODLE_ID, "source": "moodle"})  # fmt: skip
    connector = ConnectorConfig(tenant_id=tenant.id, name="site", kind="moodle")
    session.add(connector)
    session.flush()
    session.add(SyncRun(tenant_id=tenant.id, connector_id=connector.id, status="partial",
                        errors=[f"failed moodle:{MOODLE_ID}: email {EMAIL} is taken",
                                "failed moodle:77: no id"],
                        message=f"1 failed ({NAME})"))  # fmt: skip
    later = utcnow() + timedelta(hours=1)
    session.add(
        ExpiringValue(
            namespace="lti-launch",
            key="abc",
            expires_at=later,
            value={"claims": {"name": NAME, "email": EMAIL, "sub": SUB}},
        )
    )
    session.add(
        ExpiringValue(
            namespace="session",
            key="s1",
            expires_at=later,
            value={"tenant_id": tenant.id, "member_id": person.id},
        )
    )
    session.add(
        ExpiringValue(
            namespace="session",
            key="s2",
            expires_at=later,
            value={"tenant_id": tenant.id, "member_id": running.mentor.id},
        )
    )
    session.add(ErasureRequest(tenant_id=tenant.id, member_id=person.id,
                               coordinator_note=f"{NAME} asked by phone too",
                               noted_by_member_id=world.coordinator.id))  # fmt: skip
    session.flush()
    return world, person, last_year


def cells(session: Session) -> dict[str, list[str]]:
    """Every row of every table, each as lower-case text."""
    found: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        found[table.name] = [
            json.dumps([str(v) if not isinstance(v, dict | list) else v for v in row],
                       default=str).lower()
            for row in session.execute(select(table)).all()
        ]  # fmt: skip
    return found


def traces_in(text: str) -> list[str]:
    low = text.lower()
    hits = [t for t in TRACES if t in low]
    if f'"{MOODLE_ID}"' in low:
        hits.append(MOODLE_ID)
    return hits


def test_erasure_leaves_no_trace_in_any_table_or_export(session: Session) -> None:
    world, person, last_year = seed(session)
    session.commit()
    tenant_id = world.tenant.id
    # The seed really put the person everywhere the scan looks.
    seeded = {t for t, rows in cells(session).items() if any(traces_in(r) for r in rows)}
    assert seeded >= {"members", "identities", "learning_records", "participants", "matches",
                      "agreements", "checkins", "survey_responses", "alerts", "audit_events",
                      "sync_runs", "expiring_values", "erasure_requests"}  # fmt: skip
    figures_before = programme_dashboard(session, tenant_id, last_year.id).current
    csv_before = evaluation_csv(session, tenant_id, last_year.id)
    responses_before = session.scalar(select(func.count()).select_from(SurveyResponse))

    result = erase_member(session, tenant_id, person.id, operator="test operator")
    session.commit()

    leaks = {t: traces_in(r) for t, rows in cells(session).items() for r in rows if traces_in(r)}
    assert leaks == {}
    assert session.get(Member, person.id).locale is None  # their language goes too
    partner_id = session.scalars(
        select(Participant.member_id).where(
            Participant.member_id != person.id, Participant.programme_id == last_year.id
        )
    ).one()
    partner_data = member_data(session, tenant_id, partner_id)
    assert partner_data["pairs"][0]["partner"] == "a former member"
    for export in (
        json.dumps(export_member(session, tenant_id, person.id)),
        json.dumps(member_data(session, tenant_id, person.id)),
        json.dumps(partner_data),
        evaluation_csv(session, tenant_id, world.programme.id, anonymise=False),
        evaluation_csv(session, tenant_id, last_year.id, anonymise=False),
    ):
        assert traces_in(export) == [] and EMAIL not in export
    # What others need stays, de-identified.
    assert session.get(Member, person.id).name == "a former member"
    assert "a former member" in evaluation_csv(session, tenant_id, last_year.id, anonymise=False)
    assert evaluation_csv(session, tenant_id, last_year.id) == csv_before
    assert programme_dashboard(session, tenant_id, last_year.id).current == figures_before
    assert session.scalar(select(func.count()).select_from(SurveyResponse)) == responses_before
    assert "my mentee grew" in evaluation_csv(session, tenant_id, last_year.id, anonymise=False)
    # Counts by table, for the dry run's table.
    assert result.counts["identities"] == 3 and result.counts["learning_records"] == 1
    assert result.counts["members"] == 1 and result.counts["expiring_values"] == 2
    # Only the person's session went; the partner's stays.
    assert session.scalars(select(ExpiringValue.key)).all() == ["s2"]
    # One audit row, naming the member id and the operator, not the person.
    erased = session.scalars(select(AuditEvent).where(AuditEvent.action == "member.erased")).one()
    assert erased.subject_id == str(person.id) and erased.detail["operator"] == "test operator"
    assert session.scalars(select(ErasureRequest.status)).one() == "done"


def test_a_running_pair_ends_first_and_the_coordinator_is_told(session: Session) -> None:
    world, person, _ = seed(session)
    session.commit()
    running = session.scalars(
        select(Match).where(
            Match.programme_id == world.programme.id, Match.status.in_(("accepted", "active"))
        )
    ).all()
    mine = next(m for m in running if session.get(Participant, m.mentee_participant_id)
                .member_id == person.id)  # fmt: skip
    mentor = session.get(Participant, mine.mentor_participant_id)
    assert mentor.slots_taken == 1
    result = erase_member(session, world.tenant.id, person.id, operator="ops")
    session.commit()
    assert result.ended_matches == (mine.id,)
    session.refresh(mine)
    session.refresh(mentor)
    assert mine.status == "closed" and mine.end_reason == END_REASON
    assert mentor.slots_taken == 0
    alert = session.scalars(select(Alert).where(Alert.kind == "member_erased")).one()
    assert alert.programme_id == world.programme.id and alert.match_id == mine.id
    # The partner's own history shows "a former member", with their own summary kept.
    page = member_page(session, world.tenant.id, mentor.member_id)
    pair = next(p for p in page.pairs if p.match.id == mine.id)
    assert pair.side.partner_member.name == "a former member"
    assert [c.summary for c in pair.checkins if c.summary] == ["We planned the next step"]
    assert all(c.private_notes == "" for c in pair.checkins)
    # The other pair of the programme is untouched.
    other = world.pair.match
    session.refresh(other)
    assert other.status == "accepted" and other.end_reason is None


def test_erasing_twice_is_a_no_op_with_a_clear_message(session: Session) -> None:
    world, person, _ = seed(session)
    erase_member(session, world.tenant.id, person.id, operator="ops")
    session.commit()
    before = cells(session)
    with pytest.raises(AlreadyErasedError, match=rf"member {person.id} was erased on"):
        erase_member(session, world.tenant.id, person.id, operator="ops")
    session.rollback()
    assert cells(session) == before


def test_unknown_and_other_tenants_members_are_not_found(session: Session) -> None:
    world, person, _ = seed(session)
    other = make_world(session, slug="globex")
    session.commit()
    with pytest.raises(NotFoundError, match="no member 999999 in this tenant"):
        erase_member(session, world.tenant.id, 999999, operator="ops")
    with pytest.raises(NotFoundError, match=f"no member {person.id} in this tenant"):
        erase_member(session, other.tenant.id, person.id, operator="ops")
    with pytest.raises(NotFoundError, match="no member with identity moodle:4242"):
        find_member_to_erase(session, other.tenant.id, source=f"moodle:{MOODLE_ID}")
    assert (
        find_member_to_erase(session, world.tenant.id, source=f"moodle:{MOODLE_ID}").id == person.id
    )
    session.rollback()
    assert session.get(Member, person.id).erased_at is None


def test_a_later_launch_starts_as_a_new_member(session: Session) -> None:
    world, person, _ = seed(session)
    erase_member(session, world.tenant.id, person.id, operator="ops")
    session.commit()
    again = link_member(session, world.tenant.id, PersonRecord(
        source="lti", external_id=SUB, given_name="Zephyrine", family_name="Quillfeather",
        email=EMAIL, member_number=NUMBER))  # fmt: skip
    session.commit()
    assert again.member.id != person.id and again.member.erased_at is None
    assert session.get(Member, person.id).email is None
    # Nothing of the old record comes back with the new one.
    assert member_page(session, world.tenant.id, again.member.id).pairs == []


def test_a_member_with_nothing_but_a_name_is_erased_too(session: Session) -> None:
    world = make_world(session)
    lone = make_member(session, world.tenant, "Lonely Lurker")
    session.commit()
    result = erase_member(session, world.tenant.id, lone.id, operator="ops")
    assert result.counts == {"members": 1} and result.ended_matches == ()


def test_an_erased_mentor_leaves_every_open_pool(session: Session) -> None:
    world = make_world(session, n_pairs=1)
    mentor = world.pair.mentor_participant
    session.commit()
    erase_member(session, world.tenant.id, world.pair.mentor.id, operator="ops")
    session.commit()
    session.refresh(mentor)
    session.refresh(world.pair.mentee_participant)
    # The freed place is not offered again by a former member; the mentee is back in the pool.
    assert mentor.status == "withdrawn" and mentor.slots_taken == 0 and mentor.answers == {}
    assert world.pair.mentee_participant.status == "enrolled"


def test_erasure_is_all_or_nothing(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure at the last step (the audit row) leaves every table as it was."""
    import programmes.erasure as erasure

    world, person, _ = seed(session)
    session.commit()
    before = cells(session)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(erasure, "record_event", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        erase_member(session, world.tenant.id, person.id, operator="ops")
    session.rollback()
    assert cells(session) == before
