"""Both sides of a published or requested match are told by email, once, when SMTP is set."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from checkins.mailer import Mailer, SmtpSettings
from checkins.reminders import send_due
from programmes import Actor, publish, request_mentor, respond, run_matching, seed_demo
from records import Database, Match, Member, Participant, Programme
from tests.support.smtp import smtp_server


def _proposals(report) -> list:  # type: ignore[no-untyped-def]
    return [r for r in report.sent if r.kind == "match_proposed"]


def test_published_pairs_are_told_once_and_answered_sides_not_again(database: Database) -> None:
    with database.transaction() as session:
        tenant = seed_demo(session)
        coordinator = Actor(tenant_id=tenant.id, member_id=None, coordinator=True)
        programme = session.scalars(select(Programme).where(Programme.status == "enrolling")).one()
        run_matching(session, coordinator, programme.id)
        published = publish(session, coordinator, programme.id)
        match = session.scalars(
            select(Match).where(Match.programme_id == programme.id).order_by(Match.id)
        ).first()
        mentee = session.get(Participant, match.mentee_participant_id)
        mentee_member = session.get(Member, mentee.member_id)
        respond(
            session, Actor(tenant_id=tenant.id, member_id=mentee.member_id), match.id, accept=True
        )

    with smtp_server() as (inbox, url), Mailer(SmtpSettings.from_url(url)) as mailer:
        first = send_due(
            database.transaction, mailer, date.today(), base_url="https://tandem.example.org"
        )
        again = send_due(database.transaction, mailer, date.today())
    told = _proposals(first)
    # Everyone of every published pair, less the mentee who has already accepted.
    assert len(told) == 2 * published - 1
    assert mentee_member.id not in {r.member_id for r in told if r.subject == f"match:{match.id}"}
    assert _proposals(again) == []
    message = next(m for m in inbox.messages if "is proposed as your" in m["Subject"])
    body = message.get_payload(decode=True).decode()
    assert f"https://tandem.example.org/programmes/{programme.id}" in body
    assert "accept or decline" in body


def test_a_mentor_is_told_of_a_mentees_request(database: Database) -> None:
    with database.transaction() as session:
        tenant = seed_demo(session)
        programme = session.scalars(select(Programme).where(Programme.status == "enrolling")).one()
        programme.matching_mode = "mentee_choice"
        people = session.scalars(
            select(Participant)
            .where(Participant.programme_id == programme.id)
            .order_by(Participant.id)
        ).all()
        mentor = next(p for p in people if p.role == "mentor")
        mentee = next(p for p in people if p.role == "mentee")
        request_mentor(
            session, Actor(tenant_id=tenant.id, member_id=mentee.member_id), programme.id, mentor.id
        )
    with smtp_server() as (inbox, url), Mailer(SmtpSettings.from_url(url)) as mailer:
        report = send_due(database.transaction, mailer, date.today())
    told = _proposals(report)
    assert [r.member_id for r in told] == [mentor.member_id]
    assert sum("asks you to be their mentor" in m["Subject"] for m in inbox.messages) == 1
    assert "asks you to be their mentor" in told[0].title
