"""Audit rows for portal sign-ins: who came in, and every refusal with its reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from records import AuditEvent, record_event


def record(
    session: Session,
    action: str,
    *,
    tenant_id: int | None = None,
    actor_member_id: int | None = None,
    portal_id: int | None = None,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> AuditEvent:
    """Add one audit row about a portal (the caller commits); strings are clipped by
    :func:`records.record_event`."""
    return record_event(
        session,
        tenant_id,
        action,
        actor_member_id=actor_member_id,
        subject=("portal", portal_id) if portal_id is not None else None,
        detail=detail,
        remote_addr=remote_addr,
    )
