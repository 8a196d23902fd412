"""A coordinator's roster import as a job: the launch answers at once, a worker imports.

The launch queues :func:`import_roster_job` (one per course at a time: a queueing lock);
the job writes its progress where the coordinator page reads it
(:func:`roster_progress`): "importing the course roster: 1,200 of 3,400".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import jobs
from records import Enrolment, Tenant, utcnow

from . import audit
from .nrps import import_roster
from .state import ROSTER_PROGRESS, ROSTER_SYNCED, get_value, pop_value, put_value

IMPORT_ROSTER = "platforms.import_roster"
# A coordinator's launches re-import the roster at most this often.
ROSTER_REFRESH = timedelta(minutes=30)
# Progress not refreshed for this long is stale (the job died; it will be re-queued).
PROGRESS_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class RosterProgress:
    """How far a queued or running import is: ``total`` is the course's known size."""

    done: int
    total: int | None


def _marker(tenant_id: int, course_id: int) -> str:
    return f"{tenant_id}:{course_id}"


def queue_roster_import(
    session: Session,
    tenant_id: int,
    course_id: int,
    memberships_url: str,
    member_id: int,
    product: str | None,
) -> bool:
    """Queue the course's roster import unless it ran recently or is already queued."""
    marker = _marker(tenant_id, course_id)
    if get_value(session, ROSTER_SYNCED, marker) is not None:
        return False
    queued = jobs.defer(
        session,
        IMPORT_ROSTER,
        queueing_lock=f"roster:{marker}",
        tenant_id=tenant_id,
        course_id=course_id,
        memberships_url=memberships_url,
        member_id=member_id,
        product=product,
    )
    if queued:
        put_value(session, ROSTER_PROGRESS, marker, {"done": 0}, PROGRESS_LIFETIME)
    return queued


def roster_progress(session: Session, tenant_id: int, course_id: int) -> RosterProgress | None:
    """The progress of the course's roster import, or ``None`` when none is under way."""
    value = get_value(session, ROSTER_PROGRESS, _marker(tenant_id, course_id))
    if value is None:
        return None
    done = int(value.get("done", 0))
    known = session.scalar(
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.tenant_id == tenant_id, Enrolment.course_id == course_id)
    )
    return RosterProgress(done=done, total=known if known and known > done else None)


@jobs.task(IMPORT_ROSTER, failure_action="lti.nrps_failed")
def import_roster_job(
    ctx: jobs.JobContext,
    *,
    tenant_id: int,
    course_id: int,
    memberships_url: str,
    member_id: int,
    product: str | None,
) -> None:
    """Import the roster through NRPS (idempotent: linking and enrolling twice is a no-op)."""
    session = ctx.session
    marker = _marker(tenant_id, course_id)
    tenant = session.get(Tenant, tenant_id)
    if tenant is None or get_value(session, ROSTER_SYNCED, marker) is not None:
        return

    def progress(done: int) -> None:
        if not ctx.runtime.on_postgresql:
            return  # SQLite has one writer: the import's own transaction holds it
        with ctx.side_transaction() as side:
            put_value(
                side,
                ROSTER_PROGRESS,
                marker,
                {"done": done, "at": utcnow().isoformat()},
                PROGRESS_LIFETIME,
            )

    result = import_roster(
        session, ctx.box, tenant, course_id, memberships_url, product=product, on_progress=progress
    )
    put_value(
        session,
        ROSTER_SYNCED,
        marker,
        {"seen": result.seen, "created": result.created},
        ROSTER_REFRESH,
    )
    pop_value(session, ROSTER_PROGRESS, marker)
    audit.record(
        session,
        "lti.nrps_imported",
        tenant_id=tenant_id,
        actor_member_id=member_id,
        subject=("course", str(course_id)),
        detail={"seen": result.seen, "created": result.created, "enrolled": result.enrolled},
    )
