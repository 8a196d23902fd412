"""Short-lived values shared by every worker, in ``ExpiringValue`` rows.

Launch state and nonces, launch data, access tokens, portal sign-in state, one-time links
and rate-limit counters live here rather than in process memory, so that work begun on one
worker (or host) can be finished by another. Each caller keeps to its own namespace.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .base import utcnow
from .tenancy import ExpiringValue


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


def count_in_window(
    session: Session, namespace: str, key: str, window: timedelta, amount: int = 1
) -> int:
    """Add ``amount`` (one) to the counter under ``(namespace, key)``; returns the new count.

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
            ExpiringValue(
                namespace=namespace, key=key, value={"count": amount}, expires_at=now + window
            )
        )
        return amount
    count = int((row.value or {}).get("count", 0)) + amount
    row.value = {"count": count}
    return count


def get_entry(session: Session, namespace: str, key: str) -> tuple[dict[str, Any], datetime] | None:
    """The unexpired value under ``(namespace, key)`` and when it expires, or ``None``."""
    row = session.execute(
        select(ExpiringValue.value, ExpiringValue.expires_at).where(
            ExpiringValue.namespace == namespace,
            ExpiringValue.key == key,
            ExpiringValue.expires_at > utcnow(),
        )
    ).first()
    return None if row is None else (row.value or {}, row.expires_at)


def delete_values(session: Session, namespace: str, key: str | None = None) -> int:
    """Delete the value under ``(namespace, key)``, or every value of ``namespace``."""
    statement = delete(ExpiringValue).where(ExpiringValue.namespace == namespace)
    if key is not None:
        statement = statement.where(ExpiringValue.key == key)
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
