"""Who is signed in: the session a launch opens, and decorators for views that need it.

The session is Flask's signed cookie holding ids only (tenant, member, role, course,
programme, launch) and the key of a server-side session record (:mod:`members.sessions`).
Every request that acts as the member (:func:`current_member`, which the decorators call)
checks that record and that the member and tenant are still active, so a
sign-out, ``tandem member sign-out``, ``tandem platform remove`` or a deactivating sync
ends the session at once, on every worker and host. A session ends after
:data:`IDLE_LIFETIME` unused and :data:`ABSOLUTE_LIFETIME` after its sign-in. It is scoped
to one tenant: a new launch replaces it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Protocol, TypeVar

from flask import abort, g, session

import members
import records
from members import ABSOLUTE_LIFETIME, IDLE_LIFETIME
from platforms import COORDINATOR

from .i18n import gettext as _

F = TypeVar("F", bound=Callable[..., Any])
_KEYS = ("tenant_id", "member_id", "role", "course_id", "programme_id", "launch_id")

__all__ = [
    "ABSOLUTE_LIFETIME",
    "IDLE_LIFETIME",
    "CurrentMember",
    "SignInOutcome",
    "check_csrf",
    "coordinator_required",
    "csrf_token",
    "current_member",
    "login_required",
    "sign_in",
    "sign_out",
]


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
    tenant).

    Writes the session's record through the request's database session: the calling
    view commits.
    """
    database = records.get_session()
    if isinstance(session.get("sid"), str):
        members.end_session(database, session["sid"])
    session.clear()
    session.update(
        sid=members.start_session(database, outcome.tenant_id, outcome.member_id),
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
        # The member's language and the tenant's default, so that pages choose theirs
        # without a query (lti_tool.i18n).
        locale=getattr(outcome, "locale", None),
        tenant_locale=getattr(outcome, "tenant_locale", None),
    )
    g.current_member = _member_of_cookie()
    g.pop("translator", None)


def sign_out() -> None:
    """End the session: its server-side record and the browser's cookie.

    The record goes in a transaction of its own, committed at once: the sign-out holds
    whatever the page does next, and never commits the page's own work.
    """
    key = session.get("sid")
    session.clear()
    g.current_member = None
    if isinstance(key, str):
        with records.get_database().transaction() as database:
            members.end_session(database, key)


def _live_member() -> CurrentMember | None:
    """The member the cookie names, if their session record is live; else ``None``."""
    tenant_id, member_id, key = (
        session.get("tenant_id"),
        session.get("member_id"),
        session.get("sid"),
    )
    if not (isinstance(tenant_id, int) and isinstance(member_id, int) and isinstance(key, str)):
        return None
    # The check commits what it writes (the idle clock moves on, a dead record goes) even
    # on pages that write nothing, and never commits a view's half-done work: before the
    # page has begun, it runs in the request's own session (whose first transaction it
    # then shares when it writes nothing: most requests); once the page has begun, in a
    # transaction of its own.
    database = records.get_session()
    if database.in_transaction():
        with records.get_database().transaction() as own:
            live = members.check_session(own, key, tenant_id, member_id).live
    else:
        check = members.check_session(database, key, tenant_id, member_id)
        if check.wrote:
            database.commit()
        live = check.live
    return _member_of_cookie() if live else None


def _member_of_cookie() -> CurrentMember:
    return CurrentMember(
        **{name: session.get(name) for name in _KEYS},
        institution_admin=session.get("institution_admin") is True,
    )


def current_member() -> CurrentMember | None:
    """The signed-in member, or ``None``."""
    if "current_member" not in g:
        member = _live_member()
        if member is None and session:
            # Revoked, expired, or never ours: forget it, so nothing else reads it either.
            session.clear()
        g.current_member = member
    return g.current_member


def csrf_token() -> str:
    """The session's token for forms that change something."""
    return session.get("csrf", "")


def check_csrf(value: str | None) -> None:
    """Refuse a form post whose token is not the session's (400)."""
    expected = session.get("csrf")
    if not expected or not value or not secrets.compare_digest(expected, value):
        abort(400, _("This form has expired. Open Tandem from your course again."))


def login_required(view: F) -> F:
    """Let only a signed-in member through; others get a plain 401 page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_member() is None:
            abort(401, _("Open Tandem from your course to sign in."))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def coordinator_required(view: F) -> F:
    """Let only a signed-in coordinator through; members get a plain 403 page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        member = current_member()
        if member is None:
            abort(401, _("Open Tandem from your course to sign in."))
        if not member.is_coordinator:
            abort(403, _("Only a coordinator of this course can open this page."))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
