"""Short-lived values shared by every worker, in ``ExpiringValue`` rows.

Launch state and nonces, launch data, access tokens, portal sign-in state, one-time links
and rate-limit counters live here rather than in process memory, so that work begun on one
worker (or host) can be finished by another. Each caller keeps to its own namespace.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
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

    One statement (an upsert), so that concurrent hits on one counter from several
    workers each count, without a lock held between a read and a write.
    """
    now = utcnow()
    postgres = session.get_bind().dialect.name == "postgresql"
    upsert = (postgresql.insert if postgres else sqlite.insert)(ExpiringValue)
    starts = {"value": {"count": amount}, "expires_at": now + window, "created_at": now}
    column = ExpiringValue.__table__.c
    over = column.expires_at <= literal(now, column.expires_at.type)

    def restart_or(value: Any, otherwise: Any) -> Any:
        return case((over, literal(value, otherwise.type)), else_=otherwise)

    counted = case((over, amount), else_=column.value["count"].as_integer() + amount)
    json_object = func.json_build_object if postgres else func.json_object
    statement = (
        upsert.values(namespace=namespace, key=key, **starts)
        .on_conflict_do_update(
            index_elements=[column.namespace, column.key],
            set_={
                "value": json_object("count", counted),
                "expires_at": restart_or(starts["expires_at"], column.expires_at),
                "created_at": restart_or(now, column.created_at),
            },
        )
        .returning(column.value)
    )
    value = session.execute(statement).scalar_one()
    return int(value["count"])


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
