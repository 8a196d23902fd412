"""Record who did what: the one helper every part uses for AuditEvent rows."""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy.orm import Session

from .relationships import AuditEvent

log = logging.getLogger("tandem.audit")
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _code(value: Any) -> str | None:
    """A reason that is a short code (``bad_signature``), else nothing: free text stays out."""
    return value if isinstance(value, str) and _CODE.fullmatch(value) else None


# Audit rows are read by coordinators and operators: a pair's private notes and free
# text never go in one.
FORBIDDEN_DETAIL_KEYS = frozenset({"private_notes", "notes", "summary", "comment"})
# Refused requests carry attacker-chosen strings: keep the rows small.
MAX_TEXT = 255


def _clip(value: Any) -> Any:
    return value[:MAX_TEXT] if isinstance(value, str) else value


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

    ``subject`` is a model instance (its class name and id are recorded), a
    ``(type, id)`` pair, or ``None``. Strings are clipped to 255 characters.

    Raises:
        ValueError: ``detail`` carries a key that may hold private text.
    """
    detail = dict(detail or {})
    leaked = FORBIDDEN_DETAIL_KEYS & detail.keys()
    if leaked:
        # A programming error, caught by tests.
        raise ValueError(f"audit detail may not carry {sorted(leaked)}")
    if subject is None:
        subject_type = subject_id = None
    elif isinstance(subject, tuple):
        subject_type, subject_id = subject[0], str(subject[1])
    else:
        subject_type, subject_id = type(subject).__name__, str(subject.id)
    event = AuditEvent(
        tenant_id=tenant_id,
        actor_member_id=actor_member_id,
        action=action,
        subject_type=subject_type,
        subject_id=_clip(subject_id),
        detail={key: _clip(value) for key, value in detail.items()},
        remote_addr=_clip(remote_addr),
    )
    session.add(event)
    # Refusals that leave an audit row reach the logs too: the action and the reason's
    # code only (the rest may be private or attacker-chosen).
    log.info(
        "audit %s",
        action,
        extra={
            "tandem_fields": {
                "event": "audit",
                "action": action,
                "tenant_id": tenant_id,
                "reason": _code(detail.get("reason")),
            }
        },
    )
    return event
