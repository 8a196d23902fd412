"""When a coordinator last looked at their home page: what is "new since your last visit"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .mixins import TenantOwned, same_tenant_fk


class HomeVisit(TenantOwned, Base):
    """A coordinator's visits to their home page, one row per member.

    ``seen_since`` is what the page counts from: the last visit of the previous sitting,
    so that reloading the page or coming back to it within a sitting does not wipe what
    was new when the sitting began.
    """

    __tablename__ = "home_visits"
    __table_args__ = (
        UniqueConstraint("tenant_id", "member_id", name="uq_home_visits_member"),
        same_tenant_fk("member_id", "members"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(index=True)
    visited_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_since: Mapped[datetime | None]

    def __repr__(self) -> str:
        return (
            f"<HomeVisit id={self.id!r} tenant_id={self.tenant_id!r} member_id={self.member_id!r}>"
        )
