"""``tandem remind``: send due reminders by email and raise alerts (run it from cron);
``tandem purge``: delete expired values and old anonymous audit rows (``remind`` does too)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import click

import platforms
import records
from checkins import ReminderError, award_due_milestones, raise_alerts_everywhere
from checkins.mailer import Mailer, SmtpSettings
from checkins.reminders import due_reminders, send_due
from programmes import lapse_overdue_requests

from .base import app_transaction, build_app, fail, main


def _purged(counts: dict[str, int]) -> str:
    return (
        f"{counts['expiring_values']} expired value(s) and "
        f"{counts['audit_events']} old anonymous audit row(s)"
    )


@main.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option(
    "--audit-days",
    type=click.IntRange(min=1),
    default=records.AUDIT_RETENTION.days,
    show_default=True,
    help="Delete audit rows no member acted in once they are older than this many days.",
)
def purge(dry_run: bool, audit_days: int) -> None:
    """Delete expired sign-in state, links and counters, and old anonymous audit rows."""
    app = build_app()
    with app_transaction(app) as session:
        counts = records.purge_expired(
            session, now=datetime.now(UTC), audit_older_than=timedelta(days=audit_days)
        )
        if dry_run:
            session.rollback()
    if dry_run:
        click.echo(f"would delete {_purged(counts)}; dry run, nothing deleted")
    else:
        click.echo(f"deleted {_purged(counts)}")


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
    at-risk pairs, and purges as ``tandem purge`` does (default retention).
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
        # Posted to the gradebook too, where the programme has a column (an AGS job).
        n_milestones = award_due_milestones(session, poster=platforms.defer_progress)
    with app_transaction(app) as session:
        purged = records.purge_expired(session, now=datetime.now(UTC))
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
        f"{n_lapsed} unanswered request(s) lapsed, {n_milestones} milestone(s) reached; "
        f"purged {_purged(purged)}"
    )
    if report.failed is not None:
        fail(
            f"stopped at {report.failed.kind} for member {report.failed.member_id}: "
            f"{report.error}; the rest go next run"
        )
