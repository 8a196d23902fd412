"""The job that mails a one-time sign-in link (queued by :func:`portals.request_link`).

It lives beside the web layer because the link is the web layer's URL and the mail goes
through :mod:`checkins.mailer`, as it did when the request sent it itself. SMTP failures
are retried with backoff (the job's default retry strategy); each failed attempt keeps
its reason for `tandem jobs list`, never telling the asker anything.
"""

from __future__ import annotations

import jobs
import portals
from checkins.mailer import Mailer, SmtpSettings
from jobs.metrics import EMAILS_SENT


@jobs.task(portals.SEND_SIGN_IN_LINK)
def send_sign_in_link(
    ctx: jobs.JobContext,
    *,
    tenant_id: int,
    portal_id: int,
    member_id: int | None,
    link_url: str,
    browser_digest: str | None = None,
) -> None:
    """Make a fresh link for the member and mail it (a retry makes another fresh one).

    ``browser_digest`` binds the link to the browser that asked (only a hash travels)."""
    link = portals.issue_link(ctx.session, tenant_id, portal_id, member_id, browser_digest)
    if link is None:
        return  # an unknown address, or the member or portal went away since
    settings = SmtpSettings.from_url(ctx.settings.get("TANDEM_SMTP_URL"))
    with Mailer(settings) as mail:
        mail.send(portals.link_message(link, link_url))
    EMAILS_SENT.labels(kind="sign_in_link").inc()
