"""sent_reminders: a kind for 'a match waits for your answer'

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 09:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "'checkin_due', 'survey_open', 'quiet_nudge'"
NEW = OLD + ", 'match_proposed'"


def upgrade() -> None:
    with op.batch_alter_table("sent_reminders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sent_reminders_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({NEW})")


def downgrade() -> None:
    op.execute("DELETE FROM sent_reminders WHERE kind = 'match_proposed'")
    with op.batch_alter_table("sent_reminders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sent_reminders_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({OLD})")
