"""Connector syncs as jobs: one at a time per connector, on schedules kept in Tandem.

A sync job holds the queue lock ``sync:<connector id>``: whichever host queues or runs it,
a second one waits for the first (and a second request while one waits or runs is told
since when). ``tandem connector schedule NAME --every 6h`` keeps the interval in the
connector's settings; a periodic job queues the syncs that are due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import jobs
from jobs.metrics import SYNC_ROWS, SYNC_RUNS
from records import ConnectorConfig, SyncRun, utcnow

from .errors import ConnectorError
from .registry import build_connector, phases_for
from .sync import sync

SYNC = "connectors.sync"
QUEUE_DUE = "connectors.queue_due_syncs"
SCHEDULE_KEY = "schedule_every_seconds"
MIN_INTERVAL = timedelta(minutes=15)
# A run record left unfinished longer than this belongs to a process that died.
RUN_STALE_AFTER = timedelta(hours=6)


def sync_lock(connector_id: int) -> str:
    return f"sync:{connector_id}"


def running_since(session: Session, tenant_id: int, connector_id: int) -> datetime | None:
    """When the connector's current sync started (or was queued); ``None`` if idle.

    Looks at the queue (a sync job waiting or running) and at unfinished run records
    (a `tandem sync` running in a shell somewhere).
    """
    busy = jobs.busy_since(session, sync_lock(connector_id))
    if busy is not None:
        return busy[1]
    return running_since_outside_queue(session, tenant_id, connector_id)


def queue_sync(
    session: Session, tenant_id: int, connector_id: int, *, full: bool = False
) -> datetime | None:
    """Queue a sync of the connector; ``None`` when queued, else since when one is busy."""
    since = running_since(session, tenant_id, connector_id)
    if since is not None:
        return since
    queued = jobs.defer(
        session,
        SYNC,
        lock=sync_lock(connector_id),
        queueing_lock=sync_lock(connector_id),
        tenant_id=tenant_id,
        connector_id=connector_id,
        full=full,
    )
    return None if queued else (running_since(session, tenant_id, connector_id) or utcnow())


def set_schedule(config: ConnectorConfig, every: timedelta | None) -> None:
    """Sync the connector every ``every`` (at least :data:`MIN_INTERVAL`), or never."""
    settings = dict(config.settings or {})
    if every is None:
        settings.pop(SCHEDULE_KEY, None)
    else:
        if every < MIN_INTERVAL:
            raise ConnectorError(f"syncs may run at most every {MIN_INTERVAL}; asked {every}")
        settings[SCHEDULE_KEY] = int(every.total_seconds())
    config.settings = settings


@jobs.task(SYNC)
def sync_job(ctx: jobs.JobContext, *, tenant_id: int, connector_id: int, full: bool) -> None:
    """Run one sync (idempotent: the cursor moves only after a complete run)."""
    config = ctx.session.get(ConnectorConfig, connector_id)
    if config is None or config.tenant_id != tenant_id or not config.enabled:
        return  # removed or disabled since it was queued
    secret = ctx.box.decrypt(config.secret_encrypted) if config.secret_encrypted else None
    source = build_connector(config.kind, config.base_url or "", secret, config.settings or {})
    settings = dict(config.settings or {})
    try:
        result = sync(
            ctx.runtime.database,
            tenant_id,
            connector_id,
            source,
            full=full,
            match_email=bool(settings.get("match_email", True)),
            phases=phases_for(config.kind, settings),
        )
    except Exception:
        SYNC_RUNS.labels(outcome="failed").inc()
        raise
    finally:
        source.close()
    SYNC_RUNS.labels(outcome=result.status).inc()
    SYNC_ROWS.inc(result.added + result.updated + result.failed)


def running_since_outside_queue(
    session: Session, tenant_id: int, connector_id: int
) -> datetime | None:
    """An unfinished run record: a `tandem sync` in a shell (the queue's own lock covers
    jobs)."""
    return session.scalars(
        select(SyncRun.started_at)
        .where(
            SyncRun.tenant_id == tenant_id,
            SyncRun.connector_id == connector_id,
            SyncRun.finished_at.is_(None),
            SyncRun.started_at > utcnow() - RUN_STALE_AFTER,
        )
        .order_by(SyncRun.started_at.desc())
    ).first()


@jobs.periodic(QUEUE_DUE, cron="*/5 * * * *")
def queue_due_syncs(ctx: jobs.JobContext, *, timestamp: int | None = None) -> int:
    """Queue each scheduled connector whose last run started longer ago than its interval."""
    now = utcnow()
    queued = 0
    for config in ctx.session.scalars(
        select(ConnectorConfig).where(ConnectorConfig.enabled.is_(True))
    ):
        every = (config.settings or {}).get(SCHEDULE_KEY)
        if not every:
            continue
        last = ctx.session.scalars(
            select(SyncRun.started_at)
            .where(SyncRun.tenant_id == config.tenant_id, SyncRun.connector_id == config.id)
            .order_by(SyncRun.started_at.desc())
        ).first()
        if last is None or now - last >= timedelta(seconds=int(every)):
            queued += queue_sync(ctx.session, config.tenant_id, config.id) is None
    return queued
