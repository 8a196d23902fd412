"""credentials name their signing key, so /lti/jwks keeps publishing it while they live

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 23:20:00
"""

import base64
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _kid(token: str) -> str | None:
    """The ``kid`` of a JWT's header, read without checking anything (it was ours)."""
    try:
        part = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, IndexError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) and len(kid) <= 64 else None


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch_op:
        batch_op.add_column(sa.Column("kid", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_credentials_kid"), ["kid"], unique=False)
    credentials = sa.table(
        "credentials", sa.column("id", sa.Integer), sa.column("token", sa.Text),
        sa.column("kid", sa.String),
    )  # fmt: skip
    connection = op.get_bind()
    for row in connection.execute(sa.select(credentials.c.id, credentials.c.token)).all():
        connection.execute(
            credentials.update().where(credentials.c.id == row.id).values(kid=_kid(row.token))
        )


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_kid"))
        batch_op.drop_column("kid")
