"""The AuditEvent every check-in state change leaves (see :func:`records.record_event`,
which also refuses private notes and free text in ``detail``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from records import AuditEvent, record_event


def record(
    session: Session,
    tenant_id: int,
    action: str,
    *,
    actor_member_id: int | None,
    subject_type: str,
    subject_id: int,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an :class:`AuditEvent`; the caller's transaction commits it with the change."""
    return record_event(
        session,
        tenant_id,
        action,
        actor_member_id=actor_member_id,
        subject=(subject_type, subject_id),
        detail=detail,
    )
