"""Stored connector configurations: add, find, list; tokens encrypted with SecretBox.

These take the caller's session and never commit (the CLI command owns the transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import outbound
from records import ConnectorConfig, SecretBox, SyncRun, Tenant

from .errors import ConfigError

KIND_NAMES = ("moodle", "canvas", "rest", "csv")


def resolve_tenant(session: Session, slug: str | None) -> Tenant:
    """The tenant ``slug`` names, or the only tenant when there is exactly one.

    Raises:
        ConfigError: no such tenant, no tenant at all, or several and no slug.
    """
    if slug:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).first()
        if tenant is None:
            raise ConfigError(f"no tenant {slug!r}: create it with `tandem tenant add {slug}`")
        return tenant
    tenants = session.scalars(select(Tenant).order_by(Tenant.slug).limit(11)).all()
    if not tenants:
        raise ConfigError(
            "there is no tenant yet: create one with `tandem tenant add NAME` "
            "(or add a platform or portal)"
        )
    if len(tenants) > 1:
        names = ", ".join(t.slug for t in tenants[:10])
        raise ConfigError(f"there are several tenants: pass --tenant SLUG (one of {names})")
    return tenants[0]


def add_config(
    session: Session,
    box: SecretBox,
    tenant_id: int,
    *,
    kind: str,
    name: str,
    base_url: str | None,
    token: str | None,
    settings: Mapping[str, Any] | None = None,
) -> ConnectorConfig:
    """Store a connector; the token is encrypted before it touches the database."""
    if kind not in KIND_NAMES:
        raise ConfigError(f"unknown connector kind {kind!r}; need one of {', '.join(KIND_NAMES)}")
    if base_url is not None:
        try:
            outbound.check_url(base_url)
        except outbound.URLRefused as exc:
            raise ConfigError(f"--url: {exc}") from exc
    if get_config(session, tenant_id, name, missing_ok=True) is not None:
        raise ConfigError(f"a connector named {name!r} already exists in this tenant")
    config = ConnectorConfig(
        tenant_id=tenant_id,
        name=name,
        kind=kind,
        base_url=base_url.rstrip("/") if base_url else None,
        secret_encrypted=box.encrypt(token) if token else None,
        settings=dict(settings or {}),
        cursor={},
    )
    session.add(config)
    session.flush()
    return config


def get_config(
    session: Session, tenant_id: int, name: str, *, missing_ok: bool = False
) -> ConnectorConfig | None:
    """The tenant's connector called ``name``."""
    config = session.scalars(
        select(ConnectorConfig).where(
            ConnectorConfig.tenant_id == tenant_id, ConnectorConfig.name == name
        )
    ).first()
    if config is None and not missing_ok:
        raise ConfigError(f"no connector named {name!r} (see `tandem connector list`)")
    return config


def list_configs(session: Session, tenant_id: int | None = None) -> list[dict[str, Any]]:
    """Every connector with its last run; never the secret."""
    query = select(ConnectorConfig, Tenant.slug).join(
        Tenant, Tenant.id == ConnectorConfig.tenant_id
    )
    if tenant_id is not None:
        query = query.where(ConnectorConfig.tenant_id == tenant_id)
    rows = []
    for config, slug in session.execute(query.order_by(Tenant.slug, ConnectorConfig.name)):
        last = session.scalars(
            select(SyncRun)
            .where(SyncRun.tenant_id == config.tenant_id, SyncRun.connector_id == config.id)
            .order_by(SyncRun.id.desc())
            .limit(1)
        ).first()
        rows.append(
            {
                "tenant": slug,
                "name": config.name,
                "kind": config.kind,
                "url": config.base_url,
                "since": (config.cursor or {}).get("since"),
                "last_run": last.status if last else None,
                "last_run_at": last.started_at.isoformat() if last else None,
            }
        )
    return rows
