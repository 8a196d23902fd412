"""The nightly purge of expired values, as a scheduled job (cron alternative: none needed).

``records.purge_expired(session, *, now, audit_older_than)`` (expired values and old
anonymous audit rows) is used when records has it; otherwise the purge of expired
short-lived values that records has always had.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import records
from records.expiring import purge_expired as purge_expired_values

from . import logs
from .engine import JobContext, periodic

log = logging.getLogger("tandem.jobs")

PURGE = "records.purge_nightly"
# Anonymous audit rows (refused logins and the like) are kept this long.
AUDIT_KEPT = timedelta(days=90)


@periodic(PURGE, cron="17 3 * * *")
def purge_nightly(ctx: JobContext, *, timestamp: int | None = None) -> None:
    """Delete what has expired (idempotent: a second run finds nothing)."""
    purge = getattr(records, "purge_expired", None)
    if purge is not None:
        now = records.utcnow()
        result = purge(ctx.session, now=now, audit_older_than=now - AUDIT_KEPT)
    else:
        result = purge_expired_values(ctx.session)
    logs.event(log, logging.INFO, "purge", result=result)
