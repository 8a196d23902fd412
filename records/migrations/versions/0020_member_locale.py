"""members keep their last known locale, so mail and .ics files go out in their language

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, not batch mode: SQLite adds and drops a column in place (3.35+),
# and batch mode's copy of the table would lose the expression index on lower(email).


def upgrade() -> None:
    op.add_column("members", sa.Column("locale", sa.String(length=35), nullable=True))


def downgrade() -> None:
    op.drop_column("members", "locale")
