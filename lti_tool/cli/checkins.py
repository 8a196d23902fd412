"""``tandem remind``: send due reminders by email and raise alerts (run it from cron)."""

from __future__ import annotations

from datetime import date

import click

import records
from checkins import ReminderError, award_due_milestones, raise_alerts_everywhere
from checkins.mailer import Mailer, SmtpSettings
from checkins.reminders import due_reminders, send_due
from programmes import lapse_overdue_requests

from .base import app_transaction, build_app, fail, main


@main.command("remind")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send and record nothing.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if it were this day (YYYY-MM-DD); for catching up after an outage.",
)
def remind(dry_run: bool, today: object) -> None:
    """Send due reminders (check-in due, survey open, quiet nudge) through TANDEM_SMTP_URL.

    Each reminder is sent once: a sent one is recorded, and a run that fails part-way
    leaves the rest for the next run. Also opens coordinator alerts for quiet and
    at-risk pairs.
    """
    day: date = today.date() if today is not None else date.today()  # type: ignore[attr-defined]
    app = build_app()
    if dry_run:
        with app_transaction(app) as session:
            due = due_reminders(session, day)
            session.rollback()
        for r in due:
            click.echo(f"would send {r.kind} to member {r.member_id} <{r.email or 'no email'}> "
                       f"({r.subject}, {r.period}): {r.title}")  # fmt: skip
        click.echo(f"{len(due)} reminder(s) due; dry run, nothing sent")
        return
    try:
        settings = SmtpSettings.from_url(app.config.get("TANDEM_SMTP_URL"))
    except ReminderError as exc:
        fail(str(exc), 2)
    with app_transaction(app) as session:
        # Mentees' requests a mentor let lapse free the mentor's place first.
        n_lapsed = lapse_overdue_requests(session)
        n_alerts = raise_alerts_everywhere(session, day)
        # Six months together is a milestone that time, not a form, brings.
        n_milestones = award_due_milestones(session)
    database = records.get_database(app)
    try:
        with app.app_context(), Mailer(settings) as mailer:
            report = send_due(
                database.transaction, mailer, day, base_url=app.config.get("TANDEM_BASE_URL")
            )
    except ReminderError as exc:
        fail(str(exc))
    for r in report.sent:
        click.echo(f"sent {r.kind} to member {r.member_id} ({r.subject}, {r.period})")
    click.echo(
        f"{len(report.sent)} sent, {report.already_sent} already sent by another run, "
        f"{report.no_email} without an email address, {n_alerts} alert(s) raised, "
        f"{n_lapsed} unanswered request(s) lapsed, {n_milestones} milestone(s) reached"
    )
    if report.failed is not None:
        fail(
            f"stopped at {report.failed.kind} for member {report.failed.member_id}: "
            f"{report.error}; the rest go next run"
        )
