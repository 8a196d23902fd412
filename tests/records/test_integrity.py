"""The database itself keeps tenants apart and values sound."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from records import (
    CheckIn,
    Course,
    Enrolment,
    Identity,
    Match,
    Member,
    Participant,
    Programme,
    Tenant,
)


def _tenant(session: Session, slug: str) -> Tenant:
    tenant = Tenant(slug=slug, name=slug.title())
    session.add(tenant)
    session.flush()
    return tenant


def _member(session: Session, tenant: Tenant, name: str = "Ada") -> Member:
    member = Member(tenant_id=tenant.id, given_name=name)
    session.add(member)
    session.flush()
    return member


def test_identity_pointing_at_another_tenants_member_is_refused(session: Session) -> None:
    a, b = _tenant(session, "a"), _tenant(session, "b")
    member_of_b = _member(session, b)
    session.commit()
    session.add(Identity(tenant_id=a.id, member_id=member_of_b.id, source="lti", external_id="x"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    assert session.scalars(select(Identity)).all() == []


def test_enrolment_across_tenants_is_refused(session: Session) -> None:
    a, b = _tenant(session, "a"), _tenant(session, "b")
    member = _member(session, a)
    course_of_b = Course(tenant_id=b.id, source="moodle", external_id="1", title="B course")
    session.add(course_of_b)
    session.flush()
    session.add(
        Enrolment(
            tenant_id=a.id,
            member_id=member.id,
            course_id=course_of_b.id,
            role="student",
            source="moodle",
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_match_with_participants_of_two_tenants_is_refused(session: Session) -> None:
    a, b = _tenant(session, "a"), _tenant(session, "b")
    prog_a = Programme(tenant_id=a.id, name="A")
    prog_b = Programme(tenant_id=b.id, name="B")
    session.add_all([prog_a, prog_b])
    session.flush()
    mentor = Participant(
        tenant_id=a.id, programme_id=prog_a.id, member_id=_member(session, a).id, role="mentor"
    )
    mentee_b = Participant(
        tenant_id=b.id, programme_id=prog_b.id, member_id=_member(session, b).id, role="mentee"
    )
    session.add_all([mentor, mentee_b])
    session.flush()
    session.add(
        Match(
            tenant_id=a.id,
            programme_id=prog_a.id,
            mentor_participant_id=mentor.id,
            mentee_participant_id=mentee_b.id,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_identity_is_unique_per_tenant_source_and_external_id(session: Session) -> None:
    a, b = _tenant(session, "a"), _tenant(session, "b")
    one, two = _member(session, a, "One"), _member(session, a, "Two")
    other = _member(session, b)
    session.add(Identity(tenant_id=a.id, member_id=one.id, source="lti", external_id="7"))
    # The same external id in another tenant is another person.
    session.add(Identity(tenant_id=b.id, member_id=other.id, source="lti", external_id="7"))
    session.flush()
    session.add(Identity(tenant_id=a.id, member_id=two.id, source="lti", external_id="7"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_member_number_is_unique_within_a_tenant_only_when_present(session: Session) -> None:
    a = _tenant(session, "a")
    session.add_all([Member(tenant_id=a.id), Member(tenant_id=a.id)])  # no numbers: fine
    session.add(Member(tenant_id=a.id, member_number="M1"))
    session.flush()
    session.add(Member(tenant_id=a.id, member_number="M1"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_checkin_duration_must_be_between_one_minute_and_a_day(session: Session) -> None:
    a = _tenant(session, "a")
    programme = Programme(tenant_id=a.id, name="P")
    session.add(programme)
    session.flush()
    mentor = Participant(
        tenant_id=a.id, programme_id=programme.id, member_id=_member(session, a).id, role="mentor"
    )
    mentee = Participant(
        tenant_id=a.id, programme_id=programme.id, member_id=_member(session, a).id, role="mentee"
    )
    session.add_all([mentor, mentee])
    session.flush()
    match = Match(
        tenant_id=a.id,
        programme_id=programme.id,
        mentor_participant_id=mentor.id,
        mentee_participant_id=mentee.id,
        score=80,
    )
    session.add(match)
    session.flush()
    session.commit()
    for minutes in (0, 1441):
        session.add(
            CheckIn(
                tenant_id=a.id,
                match_id=match.id,
                logged_by_participant_id=mentee.id,
                met_on=date(2026, 11, 1),
                duration_minutes=minutes,
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


def test_timestamps_come_back_in_utc(session: Session) -> None:
    a = _tenant(session, "a")
    paris = timezone(timedelta(hours=1))
    member = Member(tenant_id=a.id, deactivated_at=datetime(2026, 3, 1, 13, 0, tzinfo=paris))
    session.add(member)
    session.commit()
    session.expire_all()
    loaded = session.get(Member, member.id)
    assert loaded is not None
    assert loaded.deactivated_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert loaded.deactivated_at.utcoffset() == timedelta(0)
    assert loaded.created_at.tzinfo is not None


def test_naive_timestamps_are_refused(session: Session) -> None:
    a = _tenant(session, "a")
    session.add(Member(tenant_id=a.id, deactivated_at=datetime(2026, 3, 1, 12, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_repr_shows_ids_not_personal_data(session: Session) -> None:
    a = _tenant(session, "a")
    member = Member(tenant_id=a.id, given_name="Ada", email="ada@example.org")
    session.add(member)
    session.flush()
    assert "ada" not in repr(member).lower()
    assert f"id={member.id}" in repr(member)


def test_a_savepoint_after_reads_is_undone_with_its_transaction(database) -> None:
    """A rollback undoes what a savepoint released, even when only reads came before it.

    Python's sqlite3 begins a transaction only at the first write: without the engine's
    fix, the SAVEPOINT was the outermost transaction and its release committed a tenant
    that the caller then rolled back (a half-done update left behind).
    """
    with database.sessionmaker() as session:
        session.scalars(select(Tenant)).all()
        with session.begin_nested():
            _tenant(session, "left-behind")
        session.rollback()
    with database.sessionmaker() as session:
        assert session.scalars(select(Tenant.slug)).all() == []
