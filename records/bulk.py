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

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, false, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


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


def insert_rows(session: Session, model: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (dicts keyed by column name) into ``model``'s table; nothing returned.

    Columns a row leaves out or sets to ``None`` take the column's Python default when it
    has one, as the ORM's bulk insert does. Database errors surface as SQLAlchemy's (an
    ``IntegrityError`` for a duplicate key), and the caller's transaction is then failed.
    """
    if not rows:
        return
    table: Table = model.__table__
    connection = session.connection()
    dialect = connection.dialect
    names = list(dict.fromkeys(name for row in rows for name in row))
    defaults = {
        column.name: column.default
        for column in table.columns
        if column.default is not None and not column.primary_key
    }
    names += [name for name in defaults if name not in names]
    fill = [(position, defaults[name]) for position, name in enumerate(names) if name in defaults]

    def filled(row: Mapping[str, Any]) -> list[Any]:
        values = [row.get(name) for name in names]
        for position, default in fill:
            if values[position] is None:
                values[position] = default.arg(None) if default.is_callable else default.arg
        return values

    if dialect.name == "sqlite":
        _driver_insert(connection, table, names, [filled(row) for row in rows], copy=False)
    elif dialect.driver == "psycopg":
        _driver_insert(connection, table, names, [filled(row) for row in rows], copy=True)
    else:  # another driver: Core's executemany (still no ORM, no RETURNING)
        connection.execute(
            table.insert(), [dict(zip(names, filled(row), strict=True)) for row in rows]
        )


def _driver_insert(
    connection: Connection, table: Table, names: list[str], rows: list[list[Any]], *, copy: bool
) -> None:
    """Process ``rows`` as ``execute()`` would (column types' bind processors), then send
    them in one ``executemany`` (SQLite) or one ``COPY`` (psycopg)."""
    dialect = connection.dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    for position, process in enumerate(processors):
        if process is None:
            continue
        # Processors are pure, and a batch repeats values (every row's created_at is the
        # same ``now``): each distinct value is converted once.
        done: dict[Any, Any] = {}
        for row in rows:
            value = row[position]
            if value is None:
                continue
            try:
                row[position] = done[value]
            except KeyError:
                row[position] = done[value] = process(value)
            except TypeError:  # unhashable (a JSON dict): convert each
                row[position] = process(value)
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    target = dialect.identifier_preparer.format_table(table)
    if not copy:
        marks = ", ".join("?" for _ in names)
        connection.exec_driver_sql(
            f"INSERT INTO {target} ({columns}) VALUES ({marks})", [tuple(row) for row in rows]
        )
        return
    import psycopg  # the driver records.db picks for PostgreSQL

    statement = f"COPY {target} ({columns}) FROM STDIN"
    raw = connection.connection.driver_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as out:
            for row in rows:
                out.write_row(row)
    except psycopg.Error as exc:
        # As execute() would raise it: IntegrityError for a duplicate key, and so on.
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
