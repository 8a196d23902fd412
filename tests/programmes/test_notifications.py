"""Members are mailed about their matches, once each, by jobs queued in the transaction
that caused them: a proposal when match day is published (or a mentee asks a mentor),
the outcome when a proposal is accepted or declined, and a mentor when their mentee
withdraws. The daily reminder run chases only what those mails did not reach."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email.header import decode_header, make_header
from email.message import Message

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import jobs
import translations
from checkins.mailer import Mailer, SmtpSettings
from checkins.reminders import send_due
from programmes import (
    Actor,
    publish,
    request_mentor,
    respond,
    run_matching,
    seed_demo,
    withdraw,
)
from programmes.notices import MATCH_NOTICES
from records import Database, Match, Member, Participant, Programme, SecretBox, SentReminder, Tenant
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.support.jobs import run_due
from tests.support.smtp import Inbox, smtp_server

BASE_URL = "https://tandem.example.org"


@dataclass
class Mail:
    """The test's own SMTP server, and the job runtime that sends to it."""

    inbox: Inbox
    runtime: jobs.Runtime

    def run(self) -> None:
        run_due(self.runtime)

    def to(self, member: Member) -> list[Message]:
        return [m for m in self.inbox.messages if member.email in m["To"]]


def subject(message: Message) -> str:
    """The subject, unfolded (long ones are wrapped over lines)."""
    return " ".join(message["Subject"].split())


@pytest.fixture
def mail(database: Database) -> Iterator[Mail]:
    with smtp_server() as (inbox, url):
        runtime = jobs.Runtime(
            database=database,
            box=SecretBox([TEST_ENCRYPTION_KEY]),
            settings={"TANDEM_SMTP_URL": url, "TANDEM_BASE_URL": BASE_URL},
        )
        jobs.attach(runtime)
        yield Mail(inbox, runtime)


@dataclass
class Pair:
    """One proposed pair of the demo's published match day."""

    tenant_id: int
    programme_id: int
    match_id: int
    mentor: Member
    mentee: Member

    def actor(self, member: Member) -> Actor:
        return Actor(tenant_id=self.tenant_id, member_id=member.id)


def _publish(session: Session) -> tuple[int, Pair]:
    """Seed the demo, run and publish its match day; how many pairs and the first."""
    tenant = seed_demo(session)
    coordinator = Actor(tenant_id=tenant.id, member_id=None, coordinator=True)
    programme = session.scalars(select(Programme).where(Programme.status == "enrolling")).one()
    run_matching(session, coordinator, programme.id)
    published = publish(session, coordinator, programme.id)
    match = session.scalars(
        select(Match).where(Match.programme_id == programme.id).order_by(Match.id)
    ).first()
    assert match is not None
    mentor = session.get(Participant, match.mentor_participant_id)
    mentee = session.get(Participant, match.mentee_participant_id)
    assert mentor is not None and mentee is not None
    pair = Pair(
        tenant.id,
        programme.id,
        match.id,
        session.get(Member, mentor.member_id),  # type: ignore[arg-type]
        session.get(Member, mentee.member_id),  # type: ignore[arg-type]
    )
    return published, pair


def _published(database: Database, mail: Mail) -> Pair:
    """Match day published and its proposals mailed; an empty inbox for what follows."""
    with database.transaction() as session:
        _n, pair = _publish(session)
    mail.run()
    mail.inbox.messages.clear()
    return pair


def _body(message: Message) -> str:
    return message.get_payload(decode=True).decode()  # type: ignore[union-attr]


def _claimed(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(
            select(func.count())
            .select_from(SentReminder)
            .where(SentReminder.kind == "match_proposed")
        )


def _proposals(report) -> list:  # type: ignore[no-untyped-def]
    return [r for r in report.sent if r.kind == "match_proposed"]


def test_publishing_mails_both_sides_of_every_pair_at_once(database: Database, mail: Mail) -> None:
    with database.transaction() as session:
        published, pair = _publish(session)
    mail.run()
    assert len(mail.inbox.messages) == 2 * published
    assert _claimed(database) == 2 * published  # one per side of each pair
    [to_mentee] = mail.to(pair.mentee)
    assert subject(to_mentee).endswith(f"{pair.mentor.name} is proposed as your mentor")
    [to_mentor] = mail.to(pair.mentor)
    assert subject(to_mentor).endswith(f"{pair.mentee.name} is proposed as your mentee")
    body = _body(to_mentee)
    assert f"{BASE_URL}/programmes/{pair.programme_id}" in body
    assert "accept or decline" in body
    assert to_mentee["Content-Language"] == "en"

    # A retried job, and the next daily run, send none of them again.
    jobs.run_job(
        mail.runtime,
        MATCH_NOTICES,
        {"tenant_id": pair.tenant_id, "kind": "match_proposed", "match_ids": [pair.match_id]},
    )
    with smtp_server() as (_later, url), Mailer(SmtpSettings.from_url(url)) as mailer:
        report = send_due(database.transaction, mailer, date.today())
    assert _proposals(report) == []  # (check-in reminders of the demo's running pairs go)
    assert len(mail.inbox.messages) == 2 * published


def test_the_daily_run_still_tells_who_the_publish_mail_missed(
    database: Database, mail: Mail
) -> None:
    mail.inbox.refuse_after = 0  # the SMTP server refuses everything for now
    with database.transaction() as session:
        published, pair = _publish(session)
        respond(session, pair.actor(pair.mentee), pair.match_id, accept=True)
    mail.run()
    assert mail.inbox.messages == []

    with smtp_server() as (inbox, url), Mailer(SmtpSettings.from_url(url)) as mailer:
        first = send_due(database.transaction, mailer, date.today(), base_url=BASE_URL)
        again = send_due(database.transaction, mailer, date.today())
    told = _proposals(first)
    # Everyone of every published pair, less the mentee who has already accepted.
    assert len(told) == 2 * published - 1
    about = f"match:{pair.match_id}"
    assert pair.mentee.id not in {r.member_id for r in told if r.subject == about}
    assert _proposals(again) == []
    message = next(m for m in inbox.messages if "is proposed as your" in subject(m))
    assert f"{BASE_URL}/programmes/" in _body(message)


def test_a_failed_send_is_retried_and_each_member_is_mailed_once(
    database: Database, mail: Mail
) -> None:
    mail.inbox.refuse_after = 3  # the server takes three, then refuses
    with database.transaction() as session:
        published, _pair = _publish(session)
    mail.run()
    assert len(mail.inbox.messages) == 3
    mail.inbox.refuse_after = None
    with database.transaction() as session:
        tenant_id = session.scalars(select(Programme.tenant_id)).first()
        match_ids = list(session.scalars(select(Match.id).where(Match.status == "proposed")))
    jobs.run_job(
        mail.runtime,
        MATCH_NOTICES,
        {"tenant_id": tenant_id, "kind": "match_proposed", "match_ids": match_ids},
    )
    sent = [(m["To"], subject(m)) for m in mail.inbox.messages]
    assert len(sent) == 2 * published == len(set(sent)) == _claimed(database)


def test_a_mentor_is_told_of_a_mentees_request_at_once(database: Database, mail: Mail) -> None:
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
        mentor_member = session.get(Member, mentor.member_id)
    mail.run()
    assert mail.inbox.recipients == [f"{mentor_member.name} <{mentor_member.email}>"]
    assert "asks you to be their mentor" in subject(mail.inbox.messages[0])
    with smtp_server() as (_later, url), Mailer(SmtpSettings.from_url(url)) as mailer:
        report = send_due(database.transaction, mailer, date.today())
    assert _proposals(report) == []  # (check-in reminders of the demo's running pairs go)


def test_both_sides_are_told_once_both_have_accepted(database: Database, mail: Mail) -> None:
    pair = _published(database, mail)
    with database.transaction() as session:
        respond(session, pair.actor(pair.mentee), pair.match_id, accept=True)
    mail.run()
    assert mail.inbox.messages == []  # one side's yes is no outcome yet
    with database.transaction() as session:
        respond(session, pair.actor(pair.mentor), pair.match_id, accept=True)
    mail.run()
    [to_mentee] = mail.to(pair.mentee)
    [to_mentor] = mail.to(pair.mentor)
    assert len(mail.inbox.messages) == 2
    assert subject(to_mentee).endswith(f"You and {pair.mentor.name} are now a mentoring pair")
    assert subject(to_mentor).endswith(f"You and {pair.mentee.name} are now a mentoring pair")
    assert "agreement" in _body(to_mentor)


def test_both_sides_are_told_of_a_decline_without_its_reason(
    database: Database, mail: Mail
) -> None:
    pair = _published(database, mail)
    with database.transaction() as session:
        respond(
            session,
            pair.actor(pair.mentor),
            pair.match_id,
            accept=False,
            reason="PRIVATE-REASON for the coordinator",
        )
    mail.run()
    [to_mentor] = mail.to(pair.mentor)
    [to_mentee] = mail.to(pair.mentee)
    assert subject(to_mentor).endswith(f"You declined the match with {pair.mentee.name}")
    assert subject(to_mentee).endswith(
        f"Your proposed match with {pair.mentor.name} will not go ahead"
    )
    for message in mail.inbox.messages:
        assert "PRIVATE-REASON" not in _body(message) + subject(message)


def test_an_answer_that_is_rolled_back_mails_nobody(database: Database, mail: Mail) -> None:
    pair = _published(database, mail)
    with database.sessionmaker() as session:
        respond(session, pair.actor(pair.mentor), pair.match_id, accept=False)
        session.rollback()
    mail.run()
    assert mail.inbox.messages == []


def test_a_mentor_is_told_when_their_mentee_withdraws(database: Database, mail: Mail) -> None:
    pair = _published(database, mail)
    with database.transaction() as session:
        withdraw(session, pair.actor(pair.mentee), pair.programme_id)
    mail.run()
    [to_mentor] = mail.inbox.messages
    assert pair.mentor.email in to_mentor["To"]
    assert subject(to_mentor).endswith(f"{pair.mentee.name} has left Early-career mentoring 2027")
    # A mentor leaving is no mentee's withdrawal: nobody hears of that as one.
    mail.inbox.messages.clear()
    with database.transaction() as session:
        other = session.scalars(
            select(Match).where(Match.status == "proposed").order_by(Match.id)
        ).first()
        assert other is not None
        mentor = session.get(Participant, other.mentor_participant_id)
        withdraw(session, Actor(tenant_id=pair.tenant_id, member_id=mentor.member_id),
                 pair.programme_id)  # fmt: skip
    mail.run()
    assert not any("has left" in subject(m) for m in mail.inbox.messages)


def test_each_mail_is_written_in_its_recipients_language(
    database: Database, mail: Mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Marked(translations.Translator):
        # A made-up locale naming its member: the real translator would negotiate it
        # down to English, which could not tell one recipient's mail from another's.
        def __init__(self, mark: str) -> None:
            super().__init__()
            self.locale = mark

        def gettext(self, message: str, **variables: object) -> str:
            return f"<{self.locale}>" + super().gettext(message, **variables)

    def for_member(member: Member | None, fallback: str | None = None) -> translations.Translator:
        return Marked(f"x-member{member.id}" if member is not None else "none")

    monkeypatch.setattr(translations, "for_member", for_member)
    with database.transaction() as session:
        _published, pair = _publish(session)
    mail.run()
    for member in (pair.mentor, pair.mentee):
        [message] = mail.to(member)
        assert f"<x-member{member.id}>" in subject(message)
        assert message["Content-Language"] == f"x-member{member.id}"
        assert _body(message).startswith(f"<x-member{member.id}>Hello {member.name},")


def test_publishing_without_a_job_runtime_fails_rather_than_skip_the_mail(
    database_url: str, backend: str
) -> None:
    if backend != "sqlite":
        return  # PostgreSQL queues on the caller's own connection: no runtime needed
    bare = Database(database_url)  # an engine no runtime was attached to
    try:
        with pytest.raises(jobs.JobError, match="no job runtime"), bare.transaction() as session:
            _publish(session)
        with bare.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Match)) == 0
    finally:
        bare.dispose()


def test_a_member_whose_language_tandem_never_learnt_gets_the_tenants_default(
    database: Database, mail: Mail
) -> None:
    with database.transaction() as session:
        _n, pair = _publish(session)
        tenant = session.get(Tenant, pair.tenant_id)
        tenant.settings = {**(tenant.settings or {}), "default_locale": "fr"}
        session.get(Member, pair.mentor.id).locale = None
    mail.run()
    [message] = mail.to(pair.mentor)
    assert "vous est proposé comme mentoré" in str(make_header(decode_header(subject(message))))
    assert message["Content-Language"] == "fr"
