"""Readiness and recognition: guides read, milestones reached, credentials issued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .mixins import TenantOwned, same_tenant_fk, tenant_key

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


# Milestones a member reaches in a pair, in the order the member's page lists them.
MILESTONE_KINDS = (
    "agreement_signed",
    "first_checkin",
    "three_checkins",
    "six_months",
    "programme_completed",
    "hours_10",
    "hours_25",
    "hours_50",
)


class Milestone(TenantOwned, Base):
    """A milestone one member reached in one pair: recorded once (the unique key)."""

    __tablename__ = "milestones"
    __table_args__ = (
        tenant_key("milestones"),
        UniqueConstraint("tenant_id", "match_id", "member_id", "kind", name="uq_milestones_once"),
        same_tenant_fk("programme_id", "programmes"),
        same_tenant_fk("match_id", "matches"),
        same_tenant_fk("member_id", "members"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in MILESTONE_KINDS) + ")", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(index=True)
    match_id: Mapped[int] = mapped_column(index=True)
    member_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32))
    reached_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return (
            f"<Milestone id={self.id!r} tenant_id={self.tenant_id!r} match_id={self.match_id!r} "
            f"member_id={self.member_id!r} kind={self.kind!r}>"
        )


class Credential(TenantOwned, Base):
    """A milestone issued as an Open Badges 3.0 credential (a VC signed as a JWT).

    ``public_id`` names it in the public verification URL; ``token`` is the signed JWT
    as issued. ``show_name`` is the member's consent to put their name in it.
    """

    __tablename__ = "credentials"
    __table_args__ = (
        UniqueConstraint("public_id", name="uq_credentials_public_id"),
        UniqueConstraint("tenant_id", "milestone_id", name="uq_credentials_milestone"),
        same_tenant_fk("milestone_id", "milestones"),
        same_tenant_fk("member_id", "members"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36))
    milestone_id: Mapped[int] = mapped_column(index=True)
    member_id: Mapped[int] = mapped_column(index=True)
    show_name: Mapped[bool] = mapped_column(default=False)
    token: Mapped[str] = mapped_column(Text)
    # The signing key's id: /lti/jwks keeps publishing a retired key while an unrevoked
    # credential it signed exists, so the credential stays verifiable after a rotation.
    kid: Mapped[str | None] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_member_id: Mapped[int | None]

    def __repr__(self) -> str:
        return (
            f"<Credential id={self.id!r} tenant_id={self.tenant_id!r} "
            f"milestone_id={self.milestone_id!r} revoked={self.revoked_at is not None!r}>"
        )
