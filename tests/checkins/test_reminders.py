"""Reminders: sent once each through a real local SMTP server, dry run, failure mid-way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checkins import ReminderError
from checkins.mailer import Mailer, SmtpSettings
from checkins.reminders import due_reminders, send_due
from lti_tool.cli import main
from records import Alert, Database, SentReminder
from tests.support.checkins_factory import World
from tests.support.smtp import smtp_server


def test_smtp_urls() -> None:
    s = SmtpSettings.from_url("smtp://ann%40x.org:p%3Ass@mail.example.org:587")
    assert (s.host, s.port, s.username, s.password, s.starttls, s.tls) == (
        "mail.example.org", 587, "ann@x.org", "p:ss", True, False
    )  # fmt: skip
    assert not SmtpSettings.from_url("smtp://127.0.0.1:2525").starttls
    assert SmtpSettings.from_url("smtps://h").port == 465
    with pytest.raises(ReminderError, match="not set"):
        SmtpSettings.from_url(None)
    with pytest.raises(ReminderError, match="must look like"):
        SmtpSettings.from_url("http://h")


def quiet_day(world: World):
    return world.pair.match.accepted_at.date() + timedelta(days=40)


def test_due_reminders_kinds(session: Session, world: World) -> None:
    start = world.pair.match.accepted_at.date()
    due = due_reminders(session, start + timedelta(days=30))
    kinds = sorted({(r.kind, r.period) for r in due})
    assert kinds == [("checkin_due", (start + timedelta(days=28)).isoformat()),
                     ("survey_open", "day30")]  # fmt: skip
    assert len(due) == 2 * 2 * 2  # two kinds, two pairs, both sides
    later = due_reminders(session, quiet_day(world))
    assert {r.kind for r in later} == {"quiet_nudge", "survey_open"}


def test_sent_once_through_a_real_smtp_server(database: Database, world: World) -> None:
    day = quiet_day(world)
    with smtp_server() as (inbox, url), Mailer(SmtpSettings.from_url(url)) as mailer:
        first = send_due(database.transaction, mailer, day)
        second = send_due(database.transaction, mailer, day)
    assert len(first.sent) == 8 and first.failed is None
    assert second.due == [] and second.sent == []
    assert len(inbox.messages) == 8
    message = inbox.messages[0]
    assert message["From"] == "tandem@example.org"
    assert "Maya Mentor" in message["To"] or "Milo Mentee" in message["To"]
    with database.transaction() as s:
        assert s.scalar(select(func.count(SentReminder.id))) == 8


def test_a_run_that_fails_midway_keeps_what_was_sent(database: Database, world: World) -> None:
    day = quiet_day(world)
    with smtp_server() as (inbox, url):
        inbox.refuse_after = 3
        with Mailer(SmtpSettings.from_url(url)) as mailer:
            report = send_due(database.transaction, mailer, day)
        assert len(report.sent) == 3 and report.failed is not None
        assert "SMTPDataError" in report.error
        with database.transaction() as s:
            assert s.scalar(select(func.count(SentReminder.id))) == 3
        inbox.refuse_after = None
        with Mailer(SmtpSettings.from_url(url)) as mailer:
            rest = send_due(database.transaction, mailer, day)
    assert len(rest.sent) == 5
    sent = [(m["To"], m["Subject"]) for m in inbox.messages]
    assert len(sent) == len(set(sent)) == 8


def test_tandem_remind_command(app_config: dict, world: World, monkeypatch) -> None:
    from lti_tool.cli import base

    day = quiet_day(world).isoformat()
    monkeypatch.setattr(base, "create_app", lambda config=None: _app(app_config))
    runner = FlaskCliRunner(_app(app_config))
    dry = runner.invoke(main, ["remind", "--dry-run", "--today", day])
    assert dry.exit_code == 0, dry.output
    assert "8 reminder(s) due; dry run, nothing sent" in dry.output
    assert "would send quiet_nudge" in dry.output
    with smtp_server() as (inbox, url):
        with_smtp = {**app_config, "TANDEM_SMTP_URL": url}
        monkeypatch.setattr(base, "create_app", lambda config=None: _app(with_smtp))
        result = runner.invoke(main, ["remind", "--today", day])
        again = runner.invoke(main, ["remind", "--today", day])
    assert result.exit_code == 0, result.output
    assert "8 sent" in result.output and "alert(s) raised" in result.output
    # Every remind run also purges (issue 12, finding 10).
    assert "purged 0 expired value(s) and 0 old anonymous audit row(s)" in result.output
    assert "0 sent" in again.output
    assert len(inbox.messages) == 8
    db = Database(app_config["TANDEM_DATABASE_URL"])
    with db.transaction() as s:
        assert s.scalar(select(func.count(Alert.id)).where(Alert.kind == "quiet_pair")) == 2
    db.dispose()


def test_remind_without_smtp_says_so(app_config: dict, monkeypatch) -> None:
    from lti_tool.cli import base

    # The suite's configuration has a mail sink (tests/conftest.py); this one has none.
    no_smtp = {k: v for k, v in app_config.items() if k != "TANDEM_SMTP_URL"}
    monkeypatch.setattr(base, "create_app", lambda config=None: _app(no_smtp))
    result = FlaskCliRunner(_app(no_smtp)).invoke(main, ["remind"])
    assert result.exit_code == 2
    assert "TANDEM_SMTP_URL is not set" in result.output


def _app(config: dict):
    from lti_tool.app import create_app

    return create_app(config)
