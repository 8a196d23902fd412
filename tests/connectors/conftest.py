"""Shared set-up for connector tests: a tenant with one connector config."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from records import ConnectorConfig, Database, Member, SyncRun, Tenant


@dataclass
class Source:
    tenant_id: int
    connector_id: int


def add_source(database: Database, kind: str, settings: dict | None = None) -> Source:
    with database.transaction() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "assoc")).first()
        if tenant is None:
            tenant = Tenant(slug="assoc", name="Association")
            session.add(tenant)
            session.flush()
        config = ConnectorConfig(
            tenant_id=tenant.id,
            name=f"{kind}-{len(settings or {})}",
            kind=kind,
            base_url="https://x",
            settings=settings or {},
            cursor={},
        )
        session.add(config)
        session.flush()
        return Source(tenant.id, config.id)


def count(database: Database, model: type) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def last_run(database: Database) -> SyncRun:
    with database.transaction() as session:
        return session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()


def cursor(database: Database, connector_id: int) -> dict:
    with database.transaction() as session:
        return dict(session.get(ConnectorConfig, connector_id).cursor)


def members(database: Database) -> dict[str, Member]:
    with database.transaction() as session:
        return {m.email.lower(): m for m in session.scalars(select(Member)) if m.email}


@pytest.fixture
def delays() -> list[float]:
    return []
