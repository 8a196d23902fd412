"""participants: slots taken never exceed capacity

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 08:35:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_check_constraint(
            "slots_within_capacity",
            "slots_taken >= 0 AND (capacity IS NULL OR slots_taken <= capacity)",
        )


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_participants_slots_within_capacity"), type_="check")
