"""Server-side records of signed-in sessions, so that a session can be ended at once.

The browser's signed cookie names its record; every request checks that the record is
still there and that its member and tenant are still active. Ending the record (sign-out,
``tandem member sign-out``, ``tandem platform remove``) or deactivating the member or the
tenant ends the session on the next request, on every worker and host.

Records live in ``ExpiringValue`` rows under :data:`SESSIONS`, keyed
``"<tenant id>.<member id>.<random>"``: the key alone finds every session of a member or
of a tenant, with no JSON query.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from records import ExpiringValue, Member, Tenant, utcnow
from records.expiring import add_value

SESSIONS = "session"
# A session nobody uses ends after IDLE_LIFETIME; any session ends ABSOLUTE_LIFETIME after
# its sign-in, used or not.
IDLE_LIFETIME = timedelta(hours=8)
ABSOLUTE_LIFETIME = timedelta(days=7)
# Each request would otherwise write: the idle clock is pushed on at most this often.
TOUCH_INTERVAL = timedelta(minutes=5)


def _prefix(tenant_id: int, member_id: int | None = None) -> str:
    return f"{tenant_id}." if member_id is None else f"{tenant_id}.{member_id}."


def start_session(session: Session, tenant_id: int, member_id: int) -> str:
    """Record a new session of ``member_id``; returns its key (for the signed cookie)."""
    key = _prefix(tenant_id, member_id) + secrets.token_urlsafe(24)
    add_value(session, SESSIONS, key, {"started_at": utcnow().isoformat()}, IDLE_LIFETIME)
    return key


def check_session(session: Session, key: str, tenant_id: int, member_id: int) -> bool:
    """Whether session ``key`` of this member is live; pushes its idle clock on.

    Live means: the record exists and has not expired (idle or absolute lifetime), it
    belongs to this tenant and member, and both are still active. A dead record is
    deleted. The caller commits; a live record whose idle clock did not move leaves
    nothing to commit.
    """
    if not key.startswith(_prefix(tenant_id, member_id)):
        return False
    now = utcnow()
    active = (
        select(Member.id)
        .join(Tenant, Tenant.id == Member.tenant_id)
        .where(
            Member.id == member_id,
            Member.tenant_id == tenant_id,
            Member.active.is_(True),
            Tenant.active.is_(True),
        )
        .exists()
    )
    # One statement: every page asks this, so the record and both flags come together.
    found = session.execute(
        select(ExpiringValue, active).where(
            ExpiringValue.namespace == SESSIONS, ExpiringValue.key == key
        )
    ).first()
    if found is None:
        return False
    row, is_active = found
    if row.expires_at <= now or not is_active:
        session.delete(row)
        return False
    started = datetime.fromisoformat((row.value or {})["started_at"])
    expires = min(now + IDLE_LIFETIME, started + ABSOLUTE_LIFETIME)
    if expires - row.expires_at >= TOUCH_INTERVAL:
        row.expires_at = expires
    return True


def end_session(session: Session, key: str) -> None:
    """End one session (sign-out). The caller commits."""
    session.execute(
        delete(ExpiringValue).where(ExpiringValue.namespace == SESSIONS, ExpiringValue.key == key)
    )


def _end_matching(session: Session, prefix: str) -> int:
    result = session.execute(
        delete(ExpiringValue).where(
            ExpiringValue.namespace == SESSIONS,
            ExpiringValue.key.startswith(prefix, autoescape=True),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def end_member_sessions(session: Session, tenant_id: int, member_id: int) -> int:
    """End every session of one member, on every browser; returns how many ended."""
    return _end_matching(session, _prefix(tenant_id, member_id))


def end_tenant_sessions(session: Session, tenant_id: int) -> int:
    """End every session of a tenant (its platform was removed); returns how many ended."""
    return _end_matching(session, _prefix(tenant_id))
