"""Connector configurations and the record of each sync run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .mixins import TenantOwned, Timestamped, same_tenant_fk, tenant_key


class ConnectorConfig(TenantOwned, Timestamped, Base):
    """A remote source (Moodle, Canvas, a REST directory, CSV) and how to reach it.

    ``secret_encrypted`` holds the token or client secret, encrypted with
    :class:`~records.secrets.SecretBox`; ``cursor`` holds the incremental-sync
    position, advanced only when a run finishes.
    """

    __tablename__ = "connector_configs"
    __table_args__ = (
        tenant_key("connector_configs"),
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("kind IN ('moodle', 'canvas', 'rest', 'csv')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    base_url: Mapped[str | None] = mapped_column(String(1000))
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<ConnectorConfig id={self.id!r} tenant_id={self.tenant_id!r} kind={self.kind!r}>"


class SyncRun(TenantOwned, Base):
    """One run of a connector: when, what it counted, what went wrong."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        same_tenant_fk("connector_id", "connector_configs"),
        CheckConstraint("status IN ('running', 'succeeded', 'failed', 'partial')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    full: Mapped[bool] = mapped_column(default=False)
    dry_run: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    added: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    deactivated: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    cursor_before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cursor_after: Mapped[dict[str, Any] | None]
    message: Mapped[str | None] = mapped_column(Text)
