"""Tenants (LMS platform registrations), their deployments, tool keys, short-lived state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .mixins import Timestamped


class Tenant(Timestamped, Base):
    """One LMS platform registration (issuer + client id), or one portal-only association.

    Every other row belongs to exactly one tenant. ``issuer``/``client_id`` are empty for
    an association that reaches Tandem only through its member portal.
    """

    __tablename__ = "tenants"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str | None] = mapped_column(String(500))
    client_id: Mapped[str | None] = mapped_column(String(255))
    auth_login_url: Mapped[str | None] = mapped_column(String(1000))
    auth_token_url: Mapped[str | None] = mapped_column(String(1000))
    auth_audience: Mapped[str | None] = mapped_column(String(1000))
    key_set_url: Mapped[str | None] = mapped_column(String(1000))
    # The platform's JWKS as last fetched, so a launch needs no HTTP call unless a new
    # `kid` shows up.
    key_set: Mapped[dict[str, Any] | None]
    key_set_fetched_at: Mapped[datetime | None]
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(default=True)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="Deployment.id"
    )


class Deployment(Base):
    """A deployment id of a tenant's registration (one install of the tool in the LMS)."""

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("tenant_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="deployments")


class ToolKey(Base):
    """An RSA key pair of the tool; the private part is stored encrypted.

    One key is ``active`` (it signs); ``retired`` keys stay in the published key set for a
    while so that platforms holding a cached JWKS can still verify recent messages.
    """

    __tablename__ = "tool_keys"
    __table_args__ = (CheckConstraint("state IN ('active', 'retired')", name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="active")
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<ToolKey id={self.id!r} kid={self.kid!r} state={self.state!r}>"


class ExpiringValue(Base):
    """Short-lived state shared by every worker: launch state and nonces, launch data,
    sessions, one-time sign-in tokens, rate-limit counters.

    Kept in the database rather than process memory so that any worker on any host can
    finish what another began.
    """

    __tablename__ = "expiring_values"

    namespace: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[dict[str, Any] | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ExpiringValue namespace={self.namespace!r}>"
