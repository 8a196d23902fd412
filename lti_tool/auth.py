"""Who is signed in: the session a launch opens, and decorators for views that need it.

The session is Flask's signed cookie holding ids only (tenant, member, role, course,
programme, launch), so any worker on any host can serve the next request. It is scoped
to one tenant: a new launch replaces it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Protocol, TypeVar

from flask import abort, g, session

from platforms import COORDINATOR

F = TypeVar("F", bound=Callable[..., Any])
_KEYS = ("tenant_id", "member_id", "role", "course_id", "programme_id", "launch_id")


class SignInOutcome(Protocol):
    """What opens a session: an LMS launch's ``LaunchOutcome`` or a portal's ``PortalOutcome``.

    One shape for both, so that both give the same kind of session and permissions.
    """

    @property
    def tenant_id(self) -> int: ...
    @property
    def member_id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def course_id(self) -> int | None: ...
    @property
    def programme_id(self) -> int | None: ...
    @property
    def launch_id(self) -> str | None: ...


@dataclass(frozen=True)
class CurrentMember:
    """The signed-in member of one tenant, as their last launch established."""

    tenant_id: int
    member_id: int
    role: str
    course_id: int | None
    programme_id: int | None
    launch_id: str | None
    # An institution administrator coordinates every programme of the tenant, not only
    # those of the course they launched from.
    institution_admin: bool = False

    @property
    def is_coordinator(self) -> bool:
        return self.role == COORDINATOR


def sign_in(outcome: SignInOutcome, origins: Iterable[str]) -> None:
    """Open a session for a launch or portal sign-in, replacing any earlier one (of any
    tenant)."""
    session.clear()
    session.update(
        tenant_id=outcome.tenant_id,
        member_id=outcome.member_id,
        role=outcome.role,
        course_id=outcome.course_id,
        programme_id=outcome.programme_id,
        launch_id=outcome.launch_id,
        institution_admin=bool(getattr(outcome, "institution_admin", False)),
        # Remembered so that every later page may be framed by this platform only.
        origins=sorted(origins),
        csrf=secrets.token_urlsafe(24),
    )


def sign_out() -> None:
    """Forget who is signed in."""
    session.clear()


def current_member() -> CurrentMember | None:
    """The signed-in member, or ``None``."""
    if "current_member" not in g:
        member = None
        if isinstance(session.get("tenant_id"), int) and isinstance(session.get("member_id"), int):
            member = CurrentMember(
                **{key: session.get(key) for key in _KEYS},
                institution_admin=session.get("institution_admin") is True,
            )
        g.current_member = member
    return g.current_member


def csrf_token() -> str:
    """The session's token for forms that change something."""
    return session.get("csrf", "")


def check_csrf(value: str | None) -> None:
    """Refuse a form post whose token is not the session's (400)."""
    expected = session.get("csrf")
    if not expected or not value or not secrets.compare_digest(expected, value):
        abort(400, "This form has expired. Open Tandem from your course again.")


def login_required(view: F) -> F:
    """Let only a signed-in member through; others get a plain 401 page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_member() is None:
            abort(401, "Open Tandem from your course to sign in.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def coordinator_required(view: F) -> F:
    """Let only a signed-in coordinator through; members get a plain 403 page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        member = current_member()
        if member is None:
            abort(401, "Open Tandem from your course to sign in.")
        if not member.is_coordinator:
            abort(403, "Only a coordinator of this course can open this page.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
