"""Reminders as a scheduled job: once a day at ``TANDEM_REMIND_HOUR`` (UTC, default 7);
and each tenant's retention rule, nightly.

What `tandem remind` does from cron (which remains an alternative): unanswered requests
lapse, alerts are raised, due reminders (match proposals, check-ins, surveys, quiet
pairs) are mailed. Idempotent: each reminder is claimed in the database before it is
sent, so a retried or doubled run sends nothing twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import jobs
from checkins import ReminderError, apply_retention, award_due_milestones, raise_alerts_everywhere
from checkins.mailer import Mailer, SmtpSettings
from checkins.reminders import send_due
from jobs.metrics import EMAILS_SENT
from records import utcnow

from .choice import lapse_overdue_requests

DAILY_REMINDERS = "programmes.daily_reminders"
NIGHTLY_RETENTION = "programmes.nightly_retention"
DEFAULT_REMIND_HOUR = 7


def remind(ctx: jobs.JobContext, day: date) -> int:
    """Lapse, alert and mail what is due on ``day``; returns how many mails went."""
    with ctx.side_transaction() as session:
        lapse_overdue_requests(session)
        raise_alerts_everywhere(session, day)
        # Six months together is a milestone that time, not a form, brings.
        award_due_milestones(session)
    settings = SmtpSettings.from_url(ctx.settings.get("TANDEM_SMTP_URL"))
    with Mailer(settings) as mailer:
        report = send_due(
            ctx.runtime.database.transaction,
            mailer,
            day,
            base_url=ctx.settings.get("TANDEM_BASE_URL"),
        )
    EMAILS_SENT.labels(kind="reminder").inc(len(report.sent))
    if report.failed is not None:
        # Retried with backoff; those sent are recorded and are not sent again.
        raise ReminderError(f"stopped at a {report.failed.kind} reminder: {report.error}")
    return len(report.sent)


@jobs.periodic(DAILY_REMINDERS, cron="5 * * * *", retry=jobs.DEFAULT_RETRY)
def daily_reminders(ctx: jobs.JobContext, *, timestamp: int | None = None) -> int:
    """Hourly; does the day's reminders in the configured hour only."""
    now = datetime.fromtimestamp(timestamp, UTC) if timestamp else utcnow()
    hour = int(ctx.settings.get("TANDEM_REMIND_HOUR") or DEFAULT_REMIND_HOUR)
    if now.hour != hour:
        return 0
    return remind(ctx, now.date())


@jobs.periodic(NIGHTLY_RETENTION, cron="41 2 * * *", retry=jobs.DEFAULT_RETRY)
def nightly_retention(ctx: jobs.JobContext, *, timestamp: int | None = None) -> dict[str, int]:
    """Each tenant's retention rule (``tandem tenant set --retain-closed-months``), nightly.

    Idempotent: what a first run emptied or deleted, a second run finds gone.
    """
    return apply_retention(ctx.session, now=utcnow())
