"""readiness and recognition: guides marked read, milestones, credentials

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
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

    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('agreement_signed', 'first_checkin', 'three_checkins', 'six_months', 'programme_completed', 'hours_10', 'hours_25', 'hours_50')",
            name=op.f("ck_milestones_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "match_id"],
            ["matches.tenant_id", "matches.id"],
            name="fk_match_id_same_tenant_matches",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name="fk_member_id_same_tenant_members",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "programme_id"],
            ["programmes.tenant_id", "programmes.id"],
            name="fk_programme_id_same_tenant_programmes",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_milestones_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
        sa.UniqueConstraint("tenant_id", "id", name="uq_milestones_tenant_id_id"),
        sa.UniqueConstraint(
            "tenant_id", "match_id", "member_id", "kind", name="uq_milestones_once"
        ),
    )
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        for column in ("match_id", "member_id", "programme_id", "tenant_id"):
            batch_op.create_index(batch_op.f(f"ix_milestones_{column}"), [column], unique=False)
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("show_name", sa.Boolean(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("revoked_by_member_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name="fk_member_id_same_tenant_members",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "milestone_id"],
            ["milestones.tenant_id", "milestones.id"],
            name="fk_milestone_id_same_tenant_milestones",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credentials_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("public_id", name="uq_credentials_public_id"),
        sa.UniqueConstraint("tenant_id", "milestone_id", name="uq_credentials_milestone"),
    )
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        for column in ("member_id", "milestone_id", "tenant_id"):
            batch_op.create_index(batch_op.f(f"ix_credentials_{column}"), [column], unique=False)


def downgrade() -> None:
    for table, columns in (
        ("credentials", ("member_id", "milestone_id", "tenant_id")),
        ("milestones", ("match_id", "member_id", "programme_id", "tenant_id")),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
    with op.batch_alter_table("guide_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guide_reads_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_guide_reads_programme_id"))
        batch_op.drop_index(batch_op.f("ix_guide_reads_member_id"))
    op.drop_table("guide_reads")
