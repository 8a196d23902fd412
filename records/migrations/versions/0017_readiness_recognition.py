"""readiness and recognition: guides marked read

Revision ID: 0017
Revises: 0009
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guide_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("role IN ('mentor', 'mentee')", name=op.f("ck_guide_reads_role")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "programme_id"],
            ["programmes.tenant_id", "programmes.id"],
            name="fk_programme_id_same_tenant_programmes",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name="fk_member_id_same_tenant_members",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_guide_reads_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_reads")),
        sa.UniqueConstraint(
            "tenant_id", "programme_id", "member_id", "role", name="uq_guide_reads"
        ),
    )
    with op.batch_alter_table("guide_reads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guide_reads_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_guide_reads_programme_id"), ["programme_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_guide_reads_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("guide_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guide_reads_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_guide_reads_programme_id"))
        batch_op.drop_index(batch_op.f("ix_guide_reads_member_id"))
    op.drop_table("guide_reads")
