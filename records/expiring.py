"""Short-lived values shared by every worker, in ``ExpiringValue`` rows.

Launch state and nonces, launch data, access tokens, portal sign-in state, one-time links
and rate-limit counters live here rather than in process memory, so that work begun on one
worker (or host) can be finished by another. Each caller keeps to its own namespace.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Integer, bindparam, case, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from .base import utcnow
from .tenancy import ExpiringValue

# Every launch and sign-in reads and writes here several times: the hot statements are
# built once, with bound parameters, and run as Core statements. Building a statement
# and its cache key, and the ORM's unit of work for a plain insert, cost more CPU than
# the database's own work on these rows.
_TABLE = ExpiringValue.__table__
_COLUMN = _TABLE.c
_WHEN = _COLUMN.expires_at.type
_ADD = insert(_TABLE).values(
    namespace=bindparam("namespace"),
    key=bindparam("key"),
    value=bindparam("value", type_=_COLUMN.value.type),
    expires_at=bindparam("expires_at", type_=_WHEN),
    created_at=bindparam("now", type_=_WHEN),
)
_THIS = (_COLUMN.namespace == bindparam("namespace")) & (_COLUMN.key == bindparam("key"))
_LIVE = _THIS & (_COLUMN.expires_at > bindparam("now", type_=_WHEN))
_GET = select(_COLUMN.value).where(_LIVE)
_POP = delete(_TABLE).where(_LIVE).returning(_COLUMN.value)
_GET_ENTRY = select(_COLUMN.value, _COLUMN.expires_at).where(_LIVE)
_DELETE = delete(_TABLE).where(_THIS)


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
    """Store ``value`` under a key known to be new (a random one): no lookup first.

    Written at once (a Core insert), in the caller's transaction.
    """
    now = utcnow()
    session.execute(
        _ADD,
        {"namespace": namespace, "key": key, "value": value, "expires_at": now + lifetime,
         "now": now},
    )  # fmt: skip


def get_value(session: Session, namespace: str, key: str) -> dict[str, Any] | None:
    """The unexpired value under ``(namespace, key)``, or ``None``."""
    return session.scalars(_GET, {"namespace": namespace, "key": key, "now": utcnow()}).first()


def pop_value(session: Session, namespace: str, key: str) -> dict[str, Any] | None:
    """Delete the unexpired value under ``(namespace, key)`` and return it, or ``None``.

    The delete is the consumption: of two workers racing with one replayed token, the
    database lets exactly one of them delete the row (and see its value). A caller that
    then refuses rolls back, which puts the value back.
    """
    return session.execute(
        _POP, {"namespace": namespace, "key": key, "now": utcnow()}
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
    statement = _counter_upsert(session.get_bind().dialect.name)
    value = session.execute(
        statement,
        {"namespace": namespace, "key": key, "start": {"count": amount}, "amount": amount,
         "now": now, "ends": now + window},
    ).scalar_one()  # fmt: skip
    return int(value["count"])


@cache
def _counter_upsert(dialect: str) -> Executable:
    """The upsert of :func:`count_in_window` for ``dialect``, built once."""
    postgres = dialect == "postgresql"
    now = bindparam("now", type_=_WHEN)
    ends = bindparam("ends", type_=_WHEN)
    amount = bindparam("amount", type_=Integer)
    over = _COLUMN.expires_at <= now
    counted = case((over, amount), else_=_COLUMN.value["count"].as_integer() + amount)
    json_object = func.json_build_object if postgres else func.json_object
    upsert = (postgresql.insert if postgres else sqlite.insert)(_TABLE)
    return (
        upsert.values(
            namespace=bindparam("namespace"),
            key=bindparam("key"),
            value=bindparam("start", type_=_COLUMN.value.type),
            expires_at=ends,
            created_at=now,
        )
        .on_conflict_do_update(
            index_elements=[_COLUMN.namespace, _COLUMN.key],
            set_={
                "value": json_object("count", counted),
                "expires_at": case((over, ends), else_=_COLUMN.expires_at),
                "created_at": case((over, now), else_=_COLUMN.created_at),
            },
        )
        .returning(_COLUMN.value)
    )


def get_entry(session: Session, namespace: str, key: str) -> tuple[dict[str, Any], datetime] | None:
    """The unexpired value under ``(namespace, key)`` and when it expires, or ``None``."""
    row = session.execute(_GET_ENTRY, {"namespace": namespace, "key": key, "now": utcnow()}).first()
    return None if row is None else (row.value or {}, row.expires_at)


def delete_values(session: Session, namespace: str, key: str | None = None) -> int:
    """Delete the value under ``(namespace, key)``, or every value of ``namespace``."""
    if key is not None:
        result = session.execute(_DELETE, {"namespace": namespace, "key": key})
    else:
        result = session.execute(delete(_TABLE).where(_COLUMN.namespace == namespace))
    return int(result.rowcount)  # type: ignore[attr-defined]
