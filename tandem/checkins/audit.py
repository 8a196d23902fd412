"""One helper for the AuditEvent every state change leaves."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tandem.records import AuditEvent

# Keys that must never reach an audit row: the pair's private notes and free text.
_FORBIDDEN_KEYS = frozenset({"private_notes", "notes", "summary", "comment"})


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
    detail = dict(detail or {})
    leaked = _FORBIDDEN_KEYS & detail.keys()
    if leaked:
        # A programming error, caught by tests: audit rows are read by coordinators.
        raise ValueError(f"audit detail may not carry {sorted(leaked)}")
    event = AuditEvent(
        tenant_id=tenant_id,
        actor_member_id=actor_member_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        detail=detail,
    )
    session.add(event)
    return event
