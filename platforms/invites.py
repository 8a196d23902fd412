"""Registration invites: an operator's single-use, expiring permission to register once.

``tandem platform invite`` makes one; the LMS admin pastes its URL
(``/lti/register/TOKEN``) into the LMS's dynamic registration. Only a SHA-256 digest of
the token is stored, so the database never holds a usable invite.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from .state import REGISTRATION_INVITE, add_value, pop_value

# Long enough for an LMS admin's change request, short enough that a forgotten link dies.
DEFAULT_LIFETIME = timedelta(days=7)
MAX_LIFETIME = timedelta(days=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(session: Session, *, name: str | None, lifetime: timedelta) -> str:
    """Store a new invite and return its token (shown once, to the operator).

    Raises:
        ValueError: the lifetime is not positive or longer than :data:`MAX_LIFETIME`.
    """
    if lifetime <= timedelta(0) or lifetime > MAX_LIFETIME:
        raise ValueError(f"an invite lives between a minute and {MAX_LIFETIME.days} days")
    token = secrets.token_urlsafe(32)
    add_value(session, REGISTRATION_INVITE, _digest(token), {"name": name}, lifetime)
    return token


def redeem_invite(session: Session, token: str | None) -> dict[str, Any] | None:
    """Consume the invite ``token`` and return what it carries, or ``None`` if not valid.

    The delete is the consumption (see :func:`records.expiring.pop_value`): a caller that
    then fails rolls back, and the invite is usable again.
    """
    if not token or len(token) > 200:
        return None
    return pop_value(session, REGISTRATION_INVITE, _digest(token))
