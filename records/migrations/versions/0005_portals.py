"""portals: member portals as sign-in sources

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 08:45:26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=True),
        sa.Column("client_id", sa.String(length=255), nullable=True),
        sa.Column("client_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("provider", sa.JSON(), nullable=False),
        sa.Column("member_number_claim", sa.String(length=100), nullable=True),
        sa.Column("coordinator_claim", sa.String(length=100), nullable=True),
        sa.Column("coordinator_values", sa.JSON(), nullable=False),
        sa.Column("allow_self_registration", sa.Boolean(), nullable=False),
        sa.Column("origins", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('oidc', 'email_link')", name=op.f("ck_portals_kind")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_portals_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portals")),
        sa.UniqueConstraint("name", name=op.f("uq_portals_name")),
        sa.UniqueConstraint("tenant_id", "id", name="uq_portals_tenant_id_id"),
    )
    with op.batch_alter_table("portals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portals_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("portals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portals_tenant_id"))

    op.drop_table("portals")
