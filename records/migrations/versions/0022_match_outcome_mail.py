"""sent_reminders: kinds for the outcome of a proposal and a mentee's withdrawal

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-07 00:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "'checkin_due', 'survey_open', 'quiet_nudge', 'match_proposed'"
ADDED = "'match_accepted', 'match_declined', 'mentee_withdrew'"
NEW = f"{OLD}, {ADDED}"


def upgrade() -> None:
    with op.batch_alter_table("sent_reminders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sent_reminders_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({NEW})")


def downgrade() -> None:
    op.execute(f"DELETE FROM sent_reminders WHERE kind IN ({ADDED})")
    with op.batch_alter_table("sent_reminders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sent_reminders_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({OLD})")
