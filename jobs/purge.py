"""The nightly purge, as a scheduled job (``tandem purge`` from cron is the alternative).

:func:`records.purge_expired`: expired values and old anonymous audit rows.
"""

from __future__ import annotations

import logging

import records

from . import logs
from .engine import JobContext, periodic

log = logging.getLogger("tandem.jobs")

PURGE = "records.purge_nightly"


@periodic(PURGE, cron="17 3 * * *")
def purge_nightly(ctx: JobContext, *, timestamp: int | None = None) -> None:
    """Delete what has expired (idempotent: a second run finds nothing)."""
    result = records.purge_expired(
        ctx.session, now=records.utcnow(), audit_older_than=records.AUDIT_RETENTION
    )
    logs.event(log, logging.INFO, "purge", result=result)
