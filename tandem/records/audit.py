"""Record who did what: one helper every service uses for AuditEvent rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .relationships import AuditEvent


def record_event(
    session: Session,
    tenant_id: int | None,
    action: str,
    *,
    actor_member_id: int | None = None,
    subject: Any = None,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> AuditEvent:
    """Add an :class:`AuditEvent` to the session (the caller's transaction commits it).

    ``subject`` is a model instance (its class name and id are recorded) or ``None``.
    ``detail`` must never hold secrets or private notes.
    """
    event = AuditEvent(
        tenant_id=tenant_id,
        actor_member_id=actor_member_id,
        action=action,
        subject_type=type(subject).__name__ if subject is not None else None,
        subject_id=str(subject.id) if subject is not None else None,
        detail=detail or {},
        remote_addr=remote_addr,
    )
    session.add(event)
    return event
