"""Readiness and recognition: which member read which guide of a programme."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .mixins import TenantOwned, same_tenant_fk

# Guides are written for a side of the relationship.
GUIDE_ROLES = ("mentor", "mentee")


class GuideRead(TenantOwned, Base):
    """A member marked a programme's guide for one side as read (once: the unique key)."""

    __tablename__ = "guide_reads"
    __table_args__ = (
        UniqueConstraint("tenant_id", "programme_id", "member_id", "role", name="uq_guide_reads"),
        same_tenant_fk("programme_id", "programmes"),
        same_tenant_fk("member_id", "members"),
        CheckConstraint("role IN ('mentor', 'mentee')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(index=True)
    member_id: Mapped[int] = mapped_column(index=True)
    role: Mapped[str] = mapped_column(String(16))
    read_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return (
            f"<GuideRead id={self.id!r} tenant_id={self.tenant_id!r} "
            f"programme_id={self.programme_id!r} member_id={self.member_id!r} role={self.role!r}>"
        )
