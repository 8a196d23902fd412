"""data rights: erased members, erasure requests, an alert kind for erased partners

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "'quiet_pair', 'at_risk', 'unanswered_survey', 'capacity', 'member_flag'"
NEW_KINDS = OLD_KINDS + ", 'member_erased'"


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite need not rebuild `members` (whose children cascade).
    op.add_column("members", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alerts_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({NEW_KINDS})")
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("coordinator_note", sa.Text(), nullable=False),
        sa.Column("noted_by_member_id", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'done')", name=op.f("ck_erasure_requests_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name="fk_member_id_same_tenant_members",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "noted_by_member_id"],
            ["members.tenant_id", "members.id"],
            name="fk_noted_by_member_id_same_tenant_members",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_erasure_requests_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_requests")),
    )
    op.create_index(
        op.f("ix_erasure_requests_member_id"), "erasure_requests", ["member_id"], unique=False
    )
    op.create_index(
        op.f("ix_erasure_requests_tenant_id"), "erasure_requests", ["tenant_id"], unique=False
    )
    op.create_index(
        "uq_erasure_requests_pending_once",
        "erasure_requests",
        ["tenant_id", "member_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("uq_erasure_requests_pending_once", table_name="erasure_requests")
    op.drop_index(op.f("ix_erasure_requests_tenant_id"), table_name="erasure_requests")
    op.drop_index(op.f("ix_erasure_requests_member_id"), table_name="erasure_requests")
    op.drop_table("erasure_requests")
    op.execute("DELETE FROM alerts WHERE kind = 'member_erased'")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alerts_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({OLD_KINDS})")
    if op.get_bind().dialect.name == "sqlite":
        # Not batch mode: rebuilding `members` would cascade into its children.
        op.execute("ALTER TABLE members DROP COLUMN erased_at")
    else:
        op.drop_column("members", "erased_at")
