"""check-ins: the record of each reminder sent

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sent_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("recipient_member_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('checkin_due', 'survey_open', 'quiet_nudge')",
            name=op.f("ck_sent_reminders_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "recipient_member_id"],
            ["members.tenant_id", "members.id"],
            name="fk_recipient_member_id_same_tenant_members",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sent_reminders_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_reminders")),
        sa.UniqueConstraint(
            "tenant_id",
            "kind",
            "subject",
            "recipient_member_id",
            "period",
            name="uq_sent_reminders_once",
        ),
    )
    with op.batch_alter_table("sent_reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sent_reminders_recipient_member_id"),
            ["recipient_member_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_sent_reminders_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sent_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_reminders_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_sent_reminders_recipient_member_id"))
    op.drop_table("sent_reminders")
