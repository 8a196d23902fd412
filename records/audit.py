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
# Audit rows are kept for months and read by more people than the secrets they would
# hold: a key that names a token, secret or password is a programming error ...
SECRET_KEY_PARTS = ("token", "secret", "password", "assertion", "nonce")
SECRET_KEYS = frozenset({"code", "state", "authorization", "cookie", "jwt"})
# ... and a value is stripped of anything that looks like one: a run of 20 or more
# URL-safe characters holding a letter and a digit (a sign-in link's path, a JWT's parts,
# a hex digest), except a UUID (an identifier that LMSs use as client and deployment id).
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-]{20,}")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
REDACTED = "[redacted]"
# Refused requests carry attacker-chosen strings: keep the rows small.
MAX_TEXT = 255


def _is_secret_key(key: str) -> bool:
    name = key.lower()
    return name in SECRET_KEYS or any(part in name for part in SECRET_KEY_PARTS)


def _redact_match(found: re.Match[str]) -> str:
    run = found.group(0)
    looks_random = any(c.isalpha() for c in run) and any(c.isdigit() for c in run)
    return REDACTED if looks_random and not _UUID.match(run) else run


def strip_tokens(value: Any) -> Any:
    """``value`` with token-like runs replaced by ``[redacted]`` (in strings, and in
    lists and dicts of them)."""
    if isinstance(value, str):
        return _TOKEN_LIKE.sub(_redact_match, value)
    if isinstance(value, list | tuple):
        return [strip_tokens(item) for item in value]
    if isinstance(value, dict):
        return {key: strip_tokens(item) for key, item in value.items()}
    return value


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
    ``(type, id)`` pair, or ``None``. Strings are clipped to 255 characters, and
    anything token-like in ``detail`` is redacted (:func:`strip_tokens`): an audit row
    never holds a token, even inside a refused request's path or an error message.

    Raises:
        ValueError: ``detail`` carries a key that may hold private text or a secret.
    """
    detail = dict(detail or {})
    leaked = FORBIDDEN_DETAIL_KEYS & detail.keys()
    secret = sorted(key for key in detail if _is_secret_key(key))
    if leaked or secret:
        # A programming error, caught by tests.
        raise ValueError(f"audit detail may not carry {sorted(leaked) + secret}")
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
        detail={key: _clip(strip_tokens(value)) for key, value in detail.items()},
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
