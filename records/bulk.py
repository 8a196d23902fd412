"""Bulk writes for the sync's hot path: new rows in as few round trips as the driver allows.

The ORM's bulk INSERT costs more per row than the database does: it sorts the rows by
which keys they carry, runs every value through the column types one call at a time, and
``RETURNING`` with ``sort_by_parameter_order`` sends one statement per row on SQLite. A
first sync writes tens of thousands of rows a minute, so these helpers do what the ORM
would do (the same column defaults, the same bind processing, so ``UTCDateTime`` still
refuses naive times and JSON is serialised the same way) and hand the driver plain rows:
one ``executemany`` on SQLite, one ``COPY`` on PostgreSQL. Ids are allocated up front
(:func:`allocate_ids`) instead of read back. Both run inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    String,
    Table,
    any_,
    bindparam,
    false,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


def one_of(session: Session, column: Any, values: list[Any]) -> Any:
    """``column IN values`` with the whole list as ONE parameter.

    PostgreSQL: ``column = ANY(array)``. SQLite: ``column IN (SELECT value FROM
    json_each(?))`` (JSON1, built into SQLite since 3.38), which SQLite serves from the
    same index as a plain IN. A parameter per value cost more than the lookups it made:
    psycopg parses every placeholder on the client, and SQLAlchemy renders an expanding
    IN's placeholders into a new statement on every execution.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    listed = func.json_each(bindparam(None, json.dumps(values), type_=String()))
    return column.in_(select(literal_column("value")).select_from(listed))


def allocate_ids(session: Session, model: Any, count: int) -> list[int]:
    """``count`` fresh primary keys for ``model``'s table, reserved for this transaction.

    PostgreSQL hands them out from the column's sequence (safe with concurrent writers).
    SQLite has one writer at a time: once this transaction holds the write lock, nobody
    else can insert until it ends, so the ids above the current maximum are ours; a
    no-op UPDATE takes the lock first (a plain SELECT would not).
    """
    if count <= 0:
        return []
    table: Table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        return list(
            session.scalars(
                select(func.nextval(sequence)).select_from(func.generate_series(1, count))
            )
        )
    session.execute(
        update(table)
        .where(false())
        .values(id=table.c.id)
        .execution_options(synchronize_session=False)
    )
    top = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(top + 1, top + 1 + count))


def insert_rows(
    session: Session,
    model: Any,
    rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
    *,
    names: Sequence[str] | None = None,
) -> None:
    """INSERT ``rows`` into ``model``'s table; nothing returned.

    ``rows`` are dicts keyed by column name or, with ``names``, tuples of those columns
    in that order (the hot path builds no dict per row). Columns a row leaves out or sets
    to ``None`` take the column's Python default when it has one, as the ORM's bulk
    insert does. Database errors surface as SQLAlchemy's (an ``IntegrityError`` for a
    duplicate key), and the caller's transaction is then failed.
    """
    if not rows:
        return
    table: Table = model.__table__
    connection = session.connection()
    dialect = connection.dialect
    # Column by column: the per-value work is then only where a column needs it.
    if names is not None:
        names = list(names)
        columns = [list(column) for column in zip(*rows, strict=True)]
        if len(columns) != len(names):
            raise ValueError(f"rows of {len(columns)} values for {len(names)} columns")
    else:
        columns, names = _columns(rows)  # type: ignore[arg-type]
    for column in table.columns:
        default = column.default
        if default is None or column.primary_key:
            continue
        # One value a batch: a batch is written at one moment (created_at), and a
        # default dict is serialised before it could be shared.
        value = default.arg(None) if default.is_callable else default.arg
        if column.name not in names:
            names.append(column.name)
            columns.append([value] * len(rows))
            continue
        values = columns[names.index(column.name)]
        if None in values:
            values[:] = [value if v is None else v for v in values]
    if dialect.name != "sqlite" and dialect.driver != "psycopg":
        # Another driver: Core's executemany (it applies the types itself), no RETURNING.
        connection.execute(
            table.insert(),
            [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)],
        )
        return
    for name, values in zip(names, columns, strict=True):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            values[:] = _processed(process, values)
    prepared = list(zip(*columns, strict=True))
    quote = dialect.identifier_preparer.quote
    target = f"{dialect.identifier_preparer.format_table(table)} ({', '.join(map(quote, names))})"
    if dialect.name == "sqlite":
        marks = ", ".join("?" for _ in names)
        connection.exec_driver_sql(f"INSERT INTO {target} VALUES ({marks})", prepared)
    else:
        _copy(connection, f"COPY {target} FROM STDIN", prepared)


def _columns(rows: Sequence[Mapping[str, Any]]) -> tuple[list[list[Any]], list[str]]:
    """Dict rows as one list per column, and the column names (every row's keys)."""
    names = list(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        names = list(dict.fromkeys(name for row in rows for name in row))
        rows = [{name: row.get(name) for name in names} for row in rows]
    if len(names) == 1:  # itemgetter of one name gives the value, not a 1-tuple
        return [[row[names[0]] for row in rows]], names
    return [list(column) for column in zip(*map(itemgetter(*names), rows), strict=True)], names


def _processed(process: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """``values`` through a column type's bind processor, as ``execute()`` applies it.

    Processors are pure and a batch repeats values (every row's ``created_at`` is the same
    ``now``), so each distinct hashable value is converted once.
    """
    once = lru_cache(maxsize=None, typed=True)(process)
    try:
        return list(map(once, values))
    except TypeError:  # unhashable (a JSON dict): each on its own
        return list(map(process, values))


def _copy(connection: Connection, statement: str, rows: list[tuple[Any, ...]]) -> None:
    """``COPY ... FROM STDIN`` on psycopg, in the connection's transaction."""
    import psycopg  # the driver records.db picks for PostgreSQL
    from psycopg.copy import QueuedLibpqWriter

    raw = connection.connection.driver_connection
    try:
        # The queued writer sends from its own thread (the GIL is released while it
        # waits on the socket): PostgreSQL parses and indexes the rows already sent
        # while this thread formats the next ones.
        with (
            raw.cursor() as cursor,
            cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as out,
        ):
            for row in rows:
                out.write_row(row)
    except psycopg.Error as exc:
        # As execute() would raise it: IntegrityError for a duplicate key, and so on.
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
