"""Keeping the tables that grow by themselves small: expired short-lived values and old
anonymous audit rows (issue 12, finding 10).

Every ``/lti/login``, portal sign-in and sign-in link writes an :class:`ExpiringValue`,
and every anonymous request that is refused writes an :class:`AuditEvent` with no member
behind it; without a purge both grow for ever. ``tandem purge`` runs
:func:`purge_expired`, and so does every ``tandem remind``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from .relationships import AuditEvent
from .tenancy import ExpiringValue

# How long anonymous audit rows (no member acted: refused launches, logins and links,
# system jobs) are kept. Rows naming a member stay with the member's record.
AUDIT_RETENTION = timedelta(days=90)
# Expired values are kept this much longer, so that a late sign-in link is still told
# "expired" rather than "unknown".
EXPIRED_GRACE = timedelta(days=1)


def purge_expired(
    session: Session, *, now: datetime, audit_older_than: timedelta = AUDIT_RETENTION
) -> dict[str, int]:
    """Delete values that expired before ``now - EXPIRED_GRACE`` and anonymous audit rows
    older than ``audit_older_than``; returns how many rows went, per table.

    Takes the caller's session and does not commit: a dry run rolls back.

    Raises:
        ValueError: ``now`` is naive, or ``audit_older_than`` is not positive.
    """
    if now.tzinfo is None:
        raise ValueError("now is a naive datetime; need an aware one (UTC)")
    if audit_older_than <= timedelta(0):
        raise ValueError(f"audit_older_than is {audit_older_than}; need a positive age")
    values = session.execute(
        delete(ExpiringValue).where(ExpiringValue.expires_at <= now - EXPIRED_GRACE)
    )
    audits = session.execute(
        delete(AuditEvent).where(
            AuditEvent.actor_member_id.is_(None), AuditEvent.created_at < now - audit_older_than
        )
    )
    return {
        "expiring_values": int(values.rowcount),  # type: ignore[attr-defined]
        "audit_events": int(audits.rowcount),  # type: ignore[attr-defined]
    }
