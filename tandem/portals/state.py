"""Short-lived portal state in ``ExpiringValue`` rows, shared by every worker.

A sign-in begun on one worker (state, nonce, PKCE verifier) can be finished by another;
one-time links and rate-limit counters live here too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tandem.records import ExpiringValue, utcnow

SIGN_IN_STATE = "portal.state"
EMAIL_LINK = "portal.email_link"
EMAIL_RATE = "portal.email_rate"


def add_value(
    session: Session, namespace: str, key: str, value: dict[str, Any], lifetime: timedelta
) -> None:
    """Store ``value`` under a new (random) key until ``lifetime`` has passed."""
    session.add(
        ExpiringValue(namespace=namespace, key=key, value=value, expires_at=utcnow() + lifetime)
    )


def pop_value(session: Session, namespace: str, key: str) -> dict[str, Any] | None:
    """Delete the unexpired value under ``(namespace, key)`` and return it, or ``None``.

    The delete is the consumption: of two requests racing with one replayed value the
    database lets exactly one delete the row. A caller that then refuses rolls back.
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


def exists_expired(session: Session, namespace: str, key: str) -> bool:
    """Whether an expired value still sits under ``(namespace, key)`` (to tell "late")."""
    return (
        session.scalars(
            select(ExpiringValue.key).where(
                ExpiringValue.namespace == namespace,
                ExpiringValue.key == key,
                ExpiringValue.expires_at <= utcnow(),
            )
        ).first()
        is not None
    )


def count_in_window(session: Session, namespace: str, key: str, window: timedelta) -> int:
    """Add one to the counter under ``(namespace, key)``; returns the new count.

    The window starts with the first hit and is not extended by later ones, so a
    limited address is free again ``window`` after its first request.
    """
    now = utcnow()
    row = session.get(ExpiringValue, (namespace, key), with_for_update=True)
    if row is None or row.expires_at <= now:
        if row is not None:
            session.delete(row)
            session.flush()
        session.add(
            ExpiringValue(namespace=namespace, key=key, value={"count": 1}, expires_at=now + window)
        )
        return 1
    count = int((row.value or {}).get("count", 0)) + 1
    row.value = {"count": count}
    return count
