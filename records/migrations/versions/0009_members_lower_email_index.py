"""members: index lower(email) for linking by email

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 10:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_members_tenant_lower_email", "members", ["tenant_id", sa.text("lower(email)")]
    )


def downgrade() -> None:
    op.drop_index("ix_members_tenant_lower_email", table_name="members")
