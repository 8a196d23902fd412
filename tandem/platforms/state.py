"""Short-lived values shared by every worker: launch state, launch data, access tokens.

They live in ``ExpiringValue`` rows rather than process memory, so that a login begun on
one worker (or host) can be finished by another.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tandem.records import ExpiringValue, utcnow

LOGIN_STATE = "lti.state"
LAUNCH_DATA = "lti.launch"
ACCESS_TOKEN = "lti.access_token"
ROSTER_SYNCED = "lti.nrps_synced"


def put_value(
    session: Session, namespace: str, key: str, value: dict[str, Any], lifetime: timedelta
) -> None:
    """Store ``value`` under ``(namespace, key)`` until ``lifetime`` has passed."""
    now = utcnow()
    row = session.get(ExpiringValue, (namespace, key))
    if row is None:
        session.add(
            ExpiringValue(namespace=namespace, key=key, value=value, expires_at=now + lifetime)
        )
    else:
        row.value, row.expires_at, row.created_at = value, now + lifetime, now


def add_value(
    session: Session, namespace: str, key: str, value: dict[str, Any], lifetime: timedelta
) -> None:
    """Store ``value`` under a key known to be new (a random one): no lookup first."""
    session.add(
        ExpiringValue(namespace=namespace, key=key, value=value, expires_at=utcnow() + lifetime)
    )


def get_value(session: Session, namespace: str, key: str) -> dict[str, Any] | None:
    """The unexpired value under ``(namespace, key)``, or ``None``."""
    return session.scalars(
        select(ExpiringValue.value).where(
            ExpiringValue.namespace == namespace,
            ExpiringValue.key == key,
            ExpiringValue.expires_at > utcnow(),
        )
    ).first()


def pop_value(session: Session, namespace: str, key: str) -> dict[str, Any] | None:
    """Delete the unexpired value under ``(namespace, key)`` and return it, or ``None``.

    The delete is the consumption: of two workers racing with one replayed token, the
    database lets exactly one of them delete the row (and see its value). A caller that
    then refuses rolls back, which puts the value back.
    """
    return session.execute(
        delete(ExpiringValue)
        .where(
            ExpiringValue.namespace == namespace,
            ExpiringValue.key == key,
            ExpiringValue.expires_at > utcnow(),
        )
        .returning(ExpiringValue.value)
    ).scalar_one_or_none()


def purge_expired(session: Session) -> int:
    """Delete every expired value; returns how many went."""
    result = session.execute(delete(ExpiringValue).where(ExpiringValue.expires_at <= utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]
