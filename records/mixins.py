"""Column mixins and the tenant-scoping helpers that every tenant-owned table uses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from .base import utcnow


class TenantOwned:
    """A row that belongs to exactly one tenant.

    Each tenant-owned table is also a target of composite foreign keys
    ``(tenant_id, x_id) -> x(tenant_id, id)``: that is how the database itself refuses a
    row whose parent belongs to another tenant.
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


class Timestamped:
    """``created_at`` and ``updated_at`` in UTC."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def tenant_key(table: str) -> UniqueConstraint:
    """The ``(tenant_id, id)`` key that composite foreign keys point at."""
    return UniqueConstraint("tenant_id", "id", name=f"uq_{table}_tenant_id_id")


def same_tenant_fk(
    column: str, table: str, *, ondelete: str | None = "CASCADE"
) -> ForeignKeyConstraint:
    """A foreign key on ``(tenant_id, column)`` to ``table(tenant_id, id)``.

    For an optional reference pass ``ondelete=None``: ``SET NULL`` on a composite key
    would blank ``tenant_id`` too, which the database rightly refuses.
    """
    return ForeignKeyConstraint(
        ["tenant_id", column],
        [f"{table}.tenant_id", f"{table}.id"],
        ondelete=ondelete,
        name=f"fk_{column}_same_tenant_{table}",
    )
