"""courses: one LMS course is one course; keep the LTI context id beside the LMS's key

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-06 21:50:00

A Moodle launch stored its course under ``lti`` and the context id, the Moodle connector
under ``moodle`` and the course id: the same number, two rows, with the programme on one
and grades and completion on the other. This adds ``courses.lti_context_id`` and merges
each such pair into the ``moodle`` row (programmes, enrolments and learning records
re-pointed; an enrolment the kept course already has for the same member and role wins).
A launch-only course of a Moodle platform takes the ``moodle`` key, so the next sync finds
it. Canvas context ids are opaque (not the course id): those courses are joined from the
next launch on, when Canvas sends ``canvas_course_id``.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Moodle's LTI context id is its course id; its connector names courses this way.
MOODLE = "moodle"


def _product(settings: object) -> str | None:
    if isinstance(settings, str):
        try:
            settings = json.loads(settings)
        except ValueError:
            return None
    product = settings.get("product") if isinstance(settings, dict) else None
    return product.lower() if isinstance(product, str) else None


def upgrade() -> None:
    op.add_column("courses", sa.Column("lti_context_id", sa.String(length=255), nullable=True))
    op.create_index("ix_courses_tenant_lti_context_id", "courses", ["tenant_id", "lti_context_id"])
    bind = op.get_bind()
    courses = sa.table(
        "courses",
        sa.column("id", sa.Integer),
        sa.column("tenant_id", sa.Integer),
        sa.column("source", sa.String),
        sa.column("external_id", sa.String),
        sa.column("lti_context_id", sa.String),
    )
    enrolments = sa.table(
        "enrolments",
        sa.column("id", sa.Integer),
        sa.column("tenant_id", sa.Integer),
        sa.column("member_id", sa.Integer),
        sa.column("course_id", sa.Integer),
        sa.column("role", sa.String),
    )
    tenants = sa.table("tenants", sa.column("id", sa.Integer), sa.column("settings", sa.JSON))
    programmes = sa.table(
        "programmes",
        sa.column("tenant_id", sa.Integer),
        sa.column("course_id", sa.Integer),
    )
    learning = sa.table(
        "learning_records",
        sa.column("tenant_id", sa.Integer),
        sa.column("course_id", sa.Integer),
    )
    # Every launch-made course keeps its context id.
    bind.execute(
        sa.update(courses)
        .where(courses.c.source == "lti")
        .values(lti_context_id=courses.c.external_id)
    )
    moodle_tenants = {
        row.id for row in bind.execute(sa.select(tenants.c.id, tenants.c.settings))
        if _product(row.settings) == MOODLE
    }  # fmt: skip
    keyed = {
        (row.tenant_id, row.external_id): row.id
        for row in bind.execute(
            sa.select(courses.c.id, courses.c.tenant_id, courses.c.external_id).where(
                courses.c.source == MOODLE
            )
        )
    }
    launched = bind.execute(
        sa.select(courses.c.id, courses.c.tenant_id, courses.c.external_id)
        .where(courses.c.source == "lti")
        .order_by(courses.c.id)
    ).all()
    for row in launched:
        keep = keyed.get((row.tenant_id, row.external_id))
        if keep is None:
            if row.tenant_id in moodle_tenants:
                bind.execute(sa.update(courses).where(courses.c.id == row.id).values(source=MOODLE))
                keyed[(row.tenant_id, row.external_id)] = row.id
            continue
        tenant, drop = row.tenant_id, row.id
        held = {
            (r.member_id, r.role)
            for r in bind.execute(
                sa.select(enrolments.c.member_id, enrolments.c.role).where(
                    enrolments.c.tenant_id == tenant, enrolments.c.course_id == keep
                )
            )
        }
        for r in bind.execute(
            sa.select(enrolments.c.id, enrolments.c.member_id, enrolments.c.role).where(
                enrolments.c.tenant_id == tenant, enrolments.c.course_id == drop
            )
        ).all():
            if (r.member_id, r.role) in held:
                bind.execute(sa.delete(enrolments).where(enrolments.c.id == r.id))
            else:
                bind.execute(
                    sa.update(enrolments).where(enrolments.c.id == r.id).values(course_id=keep)
                )
        for table in (programmes, learning):
            bind.execute(
                sa.update(table)
                .where(table.c.tenant_id == tenant, table.c.course_id == drop)
                .values(course_id=keep)
            )
        bind.execute(sa.delete(courses).where(courses.c.id == drop))
        bind.execute(
            sa.update(courses).where(courses.c.id == keep).values(lti_context_id=row.external_id)
        )


def downgrade() -> None:
    # Merged courses stay merged (the one row is right); only the column goes.
    op.drop_index("ix_courses_tenant_lti_context_id", table_name="courses")
    if op.get_bind().dialect.name == "sqlite":
        # No table rebuild: rebuilding courses would cascade into its children.
        op.execute("ALTER TABLE courses DROP COLUMN lti_context_id")
    else:
        op.drop_column("courses", "lti_context_id")
