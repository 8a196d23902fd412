"""Audit rows for portal sign-ins: who came in, and every refusal with its reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tandem.records import AuditEvent

MAX_DETAIL_TEXT = 255


def _clip(value: Any) -> Any:
    # Refused requests carry attacker-chosen strings: keep the audit rows small.
    return value[:MAX_DETAIL_TEXT] if isinstance(value, str) else value


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
    """Add one audit row (the caller commits)."""
    event = AuditEvent(
        tenant_id=tenant_id,
        actor_member_id=actor_member_id,
        action=action,
        subject_type="portal" if portal_id is not None else None,
        subject_id=str(portal_id) if portal_id is not None else None,
        detail={key: _clip(value) for key, value in (detail or {}).items()},
        remote_addr=_clip(remote_addr),
    )
    session.add(event)
    return event
