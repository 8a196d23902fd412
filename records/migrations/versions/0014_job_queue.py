"""jobs: the Procrastinate job queue's schema (PostgreSQL only)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 21:45:00

The queue's tables, types and functions are Procrastinate's own, as its version 3.10.0
ships them (``procrastinate/sql/schema.sql``, copied beside the migrations so that this
revision never changes when the library is upgraded). A later Procrastinate release that
changes its schema brings its migration files (``procrastinate/sql/migrations/``): apply
them in a new revision of ours. On SQLite there is no queue (jobs run in the serving
process), so nothing is created there.
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).resolve().parent.parent / "procrastinate_3_10_0_schema.sql"

DROP = """
DROP TABLE IF EXISTS procrastinate_periodic_defers, procrastinate_events,
    procrastinate_jobs, procrastinate_workers CASCADE;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status CASCADE;
"""


def _driver_connection():  # type: ignore[no-untyped-def]
    # The schema file holds several statements and dollar-quoted function bodies: run it
    # through psycopg itself, without parameters, inside Alembic's transaction.
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _driver_connection().execute(SCHEMA.read_text())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    connection = _driver_connection()
    connection.execute(DROP)
    functions = connection.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'"
    ).fetchall()
    for (signature,) in functions:
        connection.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
