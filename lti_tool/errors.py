"""One place that turns Tandem's errors into HTTP answers with plain pages."""

from __future__ import annotations

import logging

from flask import Flask, render_template, render_template_string, request
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException

import records
from platforms import (
    DeepLinkingError,
    LaunchError,
    LoginError,
    PlatformError,
    RefusedURL,
    RegistrationError,
    ServiceError,
)
from portals import ClientRejected, PortalError
from programmes import (
    ConflictError,
    NotFoundError,
    OutOfScopeError,
    PermissionDeniedError,
    ProgrammeError,
)
from translations import N_

from . import auth
from .i18n import gettext as _

# Werkzeug's names of the statuses Tandem answers with, for the catalogue (the page
# title is the name in the request's language).
HTTP_NAMES = (
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Forbidden"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Conflict"),
    N_("Request Entity Too Large"),
    N_("Too Many Requests"),
    N_("Internal Server Error"),
    N_("Bad Gateway"),
    N_("Service Unavailable"),
)

log = logging.getLogger(__name__)


# For requests Flask could not route at all (an untrusted Host header): the page template
# builds URLs, which such a request cannot.
_BARE_PAGE = (
    "<!doctype html><html lang={{ html_lang() }}><meta charset=utf-8><title>{{ title }}</title>"
    "<h1>{{ title }}</h1><p>{{ message }}</p></html>"
)


def error_page(status: int, title: str, message: str) -> tuple[str, int]:
    """A plain error page: what went wrong and what to do, never a stack trace."""
    if request_ctx.url_adapter is None:
        return render_template_string(_BARE_PAGE, title=title, message=message), status
    return render_template("error.html", status=status, title=title, message=message), status


def _audit_out_of_scope(detail: dict) -> None:
    """Someone reached for a programme of another course (a coordinator, or a member not
    enrolled there), or a match or alert of another programme than the URL's: undo
    whatever the request wrote and keep one audit row."""
    member = auth.current_member()
    session = records.get_session()
    session.rollback()
    records.record_event(
        session,
        member.tenant_id if member else None,
        "access.refused",
        actor_member_id=member.member_id if member else None,
        detail={**detail, "method": request.method, "endpoint": request.endpoint},
        remote_addr=request.remote_addr,
    )
    session.commit()


def register_error_handlers(app: Flask) -> None:
    """Map errors to HTTP answers.

    Later packages register their own base errors here (``ProgrammeError`` -> 400, ...),
    so that views never catch and translate errors one by one.
    """

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[str, int]:
        return error_page(exc.code or 500, _(exc.name), exc.description or "")

    @app.errorhandler(PlatformError)
    def _platform(exc: PlatformError) -> tuple[str, int]:
        if isinstance(exc, LaunchError):
            return error_page(exc.status, _("Tandem could not sign you in"), str(exc))
        if isinstance(exc, LoginError):
            return error_page(400, _("Tandem could not sign you in"), str(exc))
        if isinstance(exc, RegistrationError):
            return error_page(exc.status, _("Tandem could not register this platform"), str(exc))
        if isinstance(exc, DeepLinkingError | RefusedURL):
            return error_page(400, _("Tandem could not do that"), str(exc))
        if isinstance(exc, ServiceError):
            log.warning("platform service failed: %s", exc)
            return error_page(
                502, _("Your learning platform did not answer"), _("Please try again in a minute.")
            )
        return error_page(400, _("Tandem could not do that"), str(exc))

    @app.errorhandler(PortalError)
    def _portal(exc: PortalError) -> tuple[str, int]:
        # The portal views have logged the refusal already (one line, with the portal).
        if isinstance(exc, ClientRejected):
            return error_page(exc.status, _("Tandem could not sign you in"), str(exc))
        if exc.status >= 500:
            return error_page(
                exc.status,
                _("Your member portal did not answer"),
                _("Tandem could not reach your portal's sign-in. Please try again in a minute."),
            )
        return error_page(exc.status, _("Tandem could not sign you in"), str(exc))

    @app.errorhandler(ProgrammeError)
    def _programme(exc: ProgrammeError) -> tuple[str, int]:
        if isinstance(exc, OutOfScopeError):
            _audit_out_of_scope({"reason": "other_course", "programme_id": exc.programme_id})
        statuses = ((NotFoundError, 404), (PermissionDeniedError, 403), (ConflictError, 409))
        status = next((code for kind, code in statuses if isinstance(exc, kind)), 400)
        return error_page(status, _("Tandem could not do that"), str(exc))

    from checkins import CheckinError, NotInProgramme

    @app.errorhandler(CheckinError)
    def _checkin(exc: CheckinError) -> tuple[str, int]:
        if isinstance(exc, NotInProgramme):
            _audit_out_of_scope({"reason": "other_programme", **(request.view_args or {})})
        # Each CheckinError says its status: 400 input, 403 not yours, 404, 409 conflict.
        return error_page(exc.http_status, _("Tandem could not do that"), str(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[str, int]:
        log.exception("unhandled error")
        return error_page(
            500,
            _("Something went wrong"),
            _("Tandem could not finish this request. Nothing was changed; please try again."),
        )
