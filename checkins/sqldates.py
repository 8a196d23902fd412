"""Day arithmetic inside the database, the same on SQLite and PostgreSQL.

The dashboard counts quiet pairs, pair-months and due surveys in SQL; these two
functions are all the date arithmetic it needs. Cut-offs are computed in Python and
passed as parameters: ``unix_day(today)`` is :func:`day_number` of ``today``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import DateTime, Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    """Days since 1970-01-01: the Python side of :class:`unix_day`."""
    return (day - EPOCH).days


class unix_day(FunctionElement[int]):
    """Days since 1970-01-01 of a DATE, or of the UTC calendar day of a timestamp."""

    type = Integer()
    inherit_cache = True
    name = "unix_day"


class days_between(FunctionElement[float]):
    """``later - earlier`` in fractional days, for two UTC timestamps."""

    type = Float()
    inherit_cache = True
    name = "days_between"


def _is_timestamp(expression: Any) -> bool:
    kind = expression.type
    return isinstance(getattr(kind, "impl_instance", kind), DateTime)


@compiles(unix_day, "sqlite")
def _unix_day_sqlite(element: unix_day, compiler: Any, **kw: Any) -> str:
    (argument,) = element.clauses
    # Tandem keeps SQLite timestamps as naive UTC text; date() takes its calendar day.
    return f"CAST(julianday(date({compiler.process(argument, **kw)})) - 2440587.5 AS INTEGER)"


@compiles(unix_day, "postgresql")
def _unix_day_postgresql(element: unix_day, compiler: Any, **kw: Any) -> str:
    (argument,) = element.clauses
    value = compiler.process(argument, **kw)
    if _is_timestamp(argument):
        # The session's time zone must not move the day: take it in UTC.
        value = f"CAST(({value}) AT TIME ZONE 'UTC' AS DATE)"
    return f"({value} - DATE '1970-01-01')"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = element.clauses
    return (
        f"(julianday({compiler.process(later, **kw)}) "
        f"- julianday({compiler.process(earlier, **kw)}))"
    )


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = element.clauses
    # date_part, not EXTRACT: EXTRACT gives numeric since PostgreSQL 14, which sorts and
    # divides several times slower than double precision (the median wait sorts by it).
    return (
        f"(date_part('epoch', {compiler.process(later, **kw)} "
        f"- {compiler.process(earlier, **kw)}) / 86400.0)"
    )
