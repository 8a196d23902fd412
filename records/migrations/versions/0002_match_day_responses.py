"""match day: draft matches and each side's response

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 08:27:43
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "'proposed', 'accepted', 'active', 'declined', 'closed', 'rematched'"
NEW_STATUSES = "'draft', " + OLD_STATUSES
RESPONSES = "'pending', 'accepted', 'declined'"


def upgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mentor_response", sa.String(16), nullable=False, server_default="pending")
        )
        batch_op.add_column(
            sa.Column("mentee_response", sa.String(16), nullable=False, server_default="pending")
        )
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("respond_by", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_matches_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN ({NEW_STATUSES})")
        batch_op.create_check_constraint("mentor_response", f"mentor_response IN ({RESPONSES})")
        batch_op.create_check_constraint("mentee_response", f"mentee_response IN ({RESPONSES})")
    # The server defaults only filled existing rows; the models set the value from now on.
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.alter_column("mentor_response", server_default=None)
        batch_op.alter_column("mentee_response", server_default=None)


def downgrade() -> None:
    op.execute("DELETE FROM matches WHERE status = 'draft'")
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_matches_mentee_response"), type_="check")
        batch_op.drop_constraint(op.f("ck_matches_mentor_response"), type_="check")
        batch_op.drop_constraint(op.f("ck_matches_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN ({OLD_STATUSES})")
        batch_op.drop_column("respond_by")
        batch_op.drop_column("published_at")
        batch_op.drop_column("mentee_response")
        batch_op.drop_column("mentor_response")
