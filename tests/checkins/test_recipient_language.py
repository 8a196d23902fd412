"""Mail and .ics files in their recipient's language: the member's last known locale, else
the tenant's default, else English; whoever's browser or command sends them."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message

from flask import Flask
from icalendar import Calendar
from sqlalchemy.orm import Session

import members
from checkins import CheckinDraft, log_checkin
from checkins.mailer import Mailer, SmtpSettings
from checkins.reminders import send_due
from records import Database, Member, Tenant, utcnow
from tests.support.checkins_factory import World, make_world
from tests.support.checkins_web import session_cookie
from tests.support.smtp import smtp_server


def _subject(message: Message) -> str:
    # The local server keeps headers as sent: encoded words, folded lines.
    return str(make_header(decode_header(message["Subject"]))).replace("\r\n", "")


def _text(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def test_reminders_go_out_in_each_recipients_language(database: Database, world: World) -> None:
    pair, other = world.pairs
    with database.transaction() as session:
        session.get(Member, pair.mentee.id).locale = "fr_CA"
        session.get(Member, pair.mentor.id).locale = "en_GB"
        # The second pair's members never said: the tenant's default decides for them.
        members.set_tenant_settings(session, session.get(Tenant, world.tenant.id),
                                    default_locale="fr")  # fmt: skip
    quiet_day = pair.match.accepted_at.date() + timedelta(days=40)
    with smtp_server() as (inbox, url), Mailer(SmtpSettings.from_url(url)) as mailer:
        report = send_due(database.transaction, mailer, quiet_day, base_url="https://t.example")
    assert report.failed is None and len(inbox.messages) == 8
    by_recipient: dict[str, list[Message]] = {}
    for message in inbox.messages:
        by_recipient.setdefault(message["To"], []).append(message)

    def of(member: Member) -> list[Message]:
        return next(mail for to, mail in by_recipient.items() if member.name in to)

    french = of(pair.mentee)
    assert {m["Content-Language"] for m in french} == {"fr-CA"}
    subjects = [_subject(m) for m in french]
    assert any(f"Des nouvelles de votre binôme avec {pair.mentor.name} ?" in s for s in subjects)
    assert any("Un mois après : un court sondage" in s for s in subjects)
    body = _text(french[0])
    assert body.startswith(f"Bonjour {pair.mentee.name},")
    assert "Ouvrir Tandem : https://t.example/checkins/" in body
    assert body.rstrip().endswith("-- Tandem, le mentorat")
    assert "Hello" not in body and "survey" not in body
    english = of(pair.mentor)
    assert {m["Content-Language"] for m in english} == {"en-GB"}
    assert any(f"Checking in: you and {pair.mentee.name}" in _subject(m) for m in english)
    assert _text(english[0]).startswith(f"Hello {pair.mentor.name},")
    for member in (other.mentor, other.mentee):
        mail = of(member)
        assert {m["Content-Language"] for m in mail} == {"fr"}
        assert _text(mail[0]).startswith(f"Bonjour {member.name},")


def test_the_meeting_invite_is_in_the_members_language(app: Flask, session: Session) -> None:
    world = make_world(session, n_pairs=1)
    pair = world.pair
    pair.mentee.locale = "fr_CA"
    log_checkin(session, world.tenant.id, pair.match.id, pair.mentee.id,
                CheckinDraft(met_on=utcnow().date(), duration_minutes=50,
                             next_meeting_at=utcnow() + timedelta(days=20)))  # fmt: skip
    session.commit()
    client = app.test_client()
    name, value = session_cookie(app, world.tenant.id, pair.mentee.id)
    client.set_cookie(name, value)
    # An English browser downloads it; the file is the member's own, in their language.
    ics = client.get(f"/checkins/matches/{pair.match.id}/checkins/1/invite.ics",
                     headers={"Accept-Language": "en"})  # fmt: skip
    assert ics.status_code == 200
    event = next(c for c in Calendar.from_ical(ics.data).walk() if c.name == "VEVENT")
    assert str(event["summary"]) == f"Mentorat : {world.programme.name}"
    assert str(event["description"]) == f"Prochain échange de mentorat avec {pair.mentor.name}."
    # The mentor never said: English.
    name, value = session_cookie(app, world.tenant.id, pair.mentor.id)
    client.set_cookie(name, value)
    mentor_ics = client.get(f"/checkins/matches/{pair.match.id}/checkins/1/invite.ics")
    event = next(c for c in Calendar.from_ical(mentor_ics.data).walk() if c.name == "VEVENT")
    assert str(event["summary"]) == f"Mentoring: {world.programme.name}"
