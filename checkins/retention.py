"""Retention: free text of long-closed pairs and old audit rows go, on a schedule.

Each tenant says how long (``tandem tenant set NAME --retain-closed-months N
--audit-retain-months M``; defaults in :mod:`members.tenants`). :func:`apply_retention` is
what the nightly job calls (and ``tandem retention apply``); it takes the caller's
session, never commits, and is idempotent: a second run the same night finds nothing.
The counts and dates of a closed pair stay, so programme figures do not change.
"""

from __future__ import annotations

import calendar
from datetime import datetime

from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from members import privacy_settings
from records import Agreement, Alert, AuditEvent, CheckIn, Match, SurveyResponse, Tenant, utcnow

# Statuses of a pair that has ended; its ``ended_at`` is when.
ENDED = ("closed", "rematched", "declined")


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the 31st clamps)."""
    years, month0 = divmod(moment.month - 1 - months, 12)
    year, month = moment.year + years, month0 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def apply_retention(
    session: Session, *, now: datetime | None = None, tenant_id: int | None = None
) -> dict[str, int]:
    """Apply every tenant's (or one tenant's) retention; returns rows changed by table.

    For pairs that ended more than the tenant's ``retain_closed_months`` ago: check-in
    summaries and private notes, survey comments, agreement goals and boundaries, the
    words of an early end's reason and of a flag are emptied. Audit rows older than
    ``audit_retain_months`` are deleted.
    """
    now = now or utcnow()
    counts: dict[str, int] = {}

    def count(table: str, n: int) -> None:
        if n:
            counts[table] = counts.get(table, 0) + n

    query = select(Tenant).order_by(Tenant.id)
    if tenant_id is not None:
        query = query.where(Tenant.id == tenant_id)
    for tenant in session.scalars(query).all():
        policy = privacy_settings(tenant)
        closed_before = months_before(now, policy.retain_closed_months)
        old = (
            select(Match.id)
            .where(
                Match.tenant_id == tenant.id,
                Match.status.in_(ENDED),
                Match.ended_at < closed_before,
            )
            .scalar_subquery()
        )
        count("checkins", _rowcount(session.execute(
            update(CheckIn)
            .where(CheckIn.tenant_id == tenant.id, CheckIn.match_id.in_(old),
                   or_(CheckIn.private_notes != "", CheckIn.summary != ""))
            .values(private_notes="", summary="")
            .execution_options(synchronize_session=False)
        )))  # fmt: skip
        count("survey_responses", _rowcount(session.execute(
            update(SurveyResponse)
            .where(SurveyResponse.tenant_id == tenant.id, SurveyResponse.match_id.in_(old),
                   SurveyResponse.comment != "")
            .values(comment="")
            .execution_options(synchronize_session=False)
        )))  # fmt: skip
        count("agreements", _rowcount(session.execute(
            update(Agreement)
            .where(Agreement.tenant_id == tenant.id, Agreement.match_id.in_(old),
                   or_(Agreement.boundaries != "", cast(Agreement.goals, Text) != "[]"))
            .values(goals=[], boundaries="")
            .execution_options(synchronize_session=False)
        )))  # fmt: skip
        for match in session.scalars(
            select(Match).where(
                Match.id.in_(old), Match.end_reason.like("%: %"), ~Match.end_reason.like("%: ")
            )
        ):
            # "early: <words>" keeps its outcome (the figures read it), not the words.
            match.end_reason = (
                match.end_reason.split(":", 1)[0] + ": " if match.end_reason else None
            )
            count("matches", 1)
        for alert in session.scalars(
            select(Alert).where(Alert.tenant_id == tenant.id, Alert.match_id.in_(old))
        ):
            if "reason" in alert.detail:
                alert.detail = {k: v for k, v in alert.detail.items() if k != "reason"}
                count("alerts", 1)
        count("audit_events", _rowcount(session.execute(
            delete(AuditEvent).where(
                AuditEvent.tenant_id == tenant.id,
                AuditEvent.created_at < months_before(now, policy.audit_retain_months),
            )
        )))  # fmt: skip
    session.flush()
    return counts


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
