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
from typing import NamedTuple

from sqlalchemy import bindparam, delete, select, update
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


_RECORD = ExpiringValue.__table__.c
_THIS = (_RECORD.namespace == SESSIONS) & (_RECORD.key == bindparam("session_key"))
_ACTIVE = (
    select(Member.id)
    .join(Tenant, Tenant.id == Member.tenant_id)
    .where(
        Member.id == bindparam("member_id"),
        Member.tenant_id == bindparam("tenant_id"),
        Member.active.is_(True),
        Tenant.active.is_(True),
    )
    .exists()
)
_CHECK = select(_RECORD.value, _RECORD.expires_at, _ACTIVE).where(_THIS)
_TOUCH = (
    update(ExpiringValue.__table__)
    .where(_THIS)
    .values(expires_at=bindparam("idle_until", type_=_RECORD.expires_at.type))
)
_END = delete(ExpiringValue.__table__).where(_THIS)


def _prefix(tenant_id: int, member_id: int | None = None) -> str:
    return f"{tenant_id}." if member_id is None else f"{tenant_id}.{member_id}."


def start_session(session: Session, tenant_id: int, member_id: int) -> str:
    """Record a new session of ``member_id``; returns its key (for the signed cookie)."""
    key = _prefix(tenant_id, member_id) + secrets.token_urlsafe(24)
    add_value(session, SESSIONS, key, {"started_at": utcnow().isoformat()}, IDLE_LIFETIME)
    return key


class SessionCheck(NamedTuple):
    """Whether a session is live, and whether checking it wrote (for the caller to commit)."""

    live: bool
    wrote: bool = False


def check_session(session: Session, key: str, tenant_id: int, member_id: int) -> SessionCheck:
    """Whether session ``key`` of this member is live; pushes its idle clock on.

    Live means: the record exists and has not expired (idle or absolute lifetime), it
    belongs to this tenant and member, and both are still active. A dead record is
    deleted. The record is read and written through Core statements built once (every
    page asks this). The caller commits when ``wrote`` says so; a live record whose idle
    clock did not move writes nothing.
    """
    if not key.startswith(_prefix(tenant_id, member_id)):
        return SessionCheck(False)
    now = utcnow()
    # One statement: the record and both flags come together.
    found = session.execute(
        _CHECK, {"session_key": key, "member_id": member_id, "tenant_id": tenant_id}
    ).first()
    if found is None:
        return SessionCheck(False)
    value, expires_at, is_active = found
    if expires_at <= now or not is_active:
        session.execute(_END, {"session_key": key})
        return SessionCheck(False, wrote=True)
    started = datetime.fromisoformat((value or {})["started_at"])
    expires = min(now + IDLE_LIFETIME, started + ABSOLUTE_LIFETIME)
    if expires - expires_at >= TOUCH_INTERVAL:
        session.execute(_TOUCH, {"session_key": key, "idle_until": expires})
        return SessionCheck(True, wrote=True)
    return SessionCheck(True)


def end_session(session: Session, key: str) -> None:
    """End one session (sign-out). The caller commits."""
    session.execute(_END, {"session_key": key})


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
