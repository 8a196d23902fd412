"""Audit rows for launches: who came in, and every refusal with its reason."""

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
    subject: tuple[str, str] | None = None,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> AuditEvent:
    """Add one audit row (the caller commits); see :func:`records.record_event`."""
    return record_event(
        session,
        tenant_id,
        action,
        actor_member_id=actor_member_id,
        subject=subject,
        detail=detail,
        remote_addr=remote_addr,
    )
