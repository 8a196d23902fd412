"""Member-portal sign-in: OpenID Connect (``/portal/NAME/login``) or a link by email.

Thin: each view parses the request, calls :mod:`portals`, commits, signs in and
redirects to the same pages an LMS launch lands on.
"""

from __future__ import annotations

import logging
import re
from typing import NoReturn

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

import portals
import records
from platforms import COORDINATOR
from portals import PortalError, PortalOutcome
from portals.audit import record as audit
from records import Portal

from .. import auth, security
from ..urls import external_url, is_https

log = logging.getLogger(__name__)

bp = Blueprint("portals", __name__)

# One cookie per sign-in, named by its state: two tabs signing in at once do not clash.
STATE_COOKIE_PREFIX = "portal_state_"
STATE_COOKIE_MAX_AGE = 600
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")


def _box() -> records.SecretBox:
    return current_app.extensions["tandem.secrets"]


def _portal(name: str) -> Portal:
    """The named portal; its pages may be framed by its origins from here on."""
    try:
        portal = portals.get_portal(records.get_session(), name)
    except PortalError as exc:
        _refuse(exc)
    assert portal is not None
    security.allow_framing_by(portal.origins)
    return portal


def _refuse(exc: PortalError) -> NoReturn:
    """Undo everything the request wrote, keep one audit row, and re-raise for the page."""
    session = records.get_session()
    session.rollback()
    audit(
        session,
        "portal.sign_in_refused",
        tenant_id=exc.tenant_id,
        portal_id=exc.portal_id,
        detail={"reason": exc.reason, "message": str(exc), "path": request.path},
        remote_addr=request.remote_addr,
    )
    session.commit()
    raise exc


def _signed_in(outcome: PortalOutcome) -> Response:
    """Replace whatever session there was with this member's, and land on their page."""
    auth.sign_in(outcome, outcome.origins)
    security.allow_framing_by(outcome.origins)
    target = url_for("lti.coordinator_home" if outcome.role == COORDINATOR else "lti.member_home")
    return redirect(target, code=303)


def _cookie_path(name: str) -> str:
    return url_for("portals.callback", name=name)


@bp.get("/portal/<name>/login")
def login(name: str) -> ResponseReturnValue:
    """Start a sign-in: to the portal's provider, or to the email-link form."""
    portal = _portal(name)
    if portal.kind == "email_link":
        return redirect(url_for("portals.email_form", name=name), code=303)
    session = records.get_session()
    try:
        start = portals.start_sign_in(session, portal, external_url("portals.callback", name=name))
    except PortalError as exc:
        _refuse(exc)
    session.commit()
    response = redirect(start.url, code=302)
    secure = is_https()
    response.set_cookie(
        STATE_COOKIE_PREFIX + start.state,
        start.state,
        max_age=STATE_COOKIE_MAX_AGE,
        httponly=True,
        secure=secure,
        # The provider sends the browser back with a top-level GET, which Lax cookies
        # reach; inside a portal's iframe over https only SameSite=None does.
        samesite="None" if secure else "Lax",
        path=_cookie_path(name),
    )
    return response


@bp.get("/portal/<name>/callback")
def callback(name: str) -> ResponseReturnValue:
    """The provider's answer: check it, find the member, sign in."""
    portal = _portal(name)
    session = records.get_session()
    state = request.args.get("state", "")
    try:
        if request.args.get("error"):
            # Only the error code, and only a plausible one: the description is free text
            # anyone can put in a link, and this page must not relay it.
            code = request.args["error"]
            raise portals.SignInRefused(
                "The portal did not sign you in"
                + (f" ({code})." if _ERROR_CODE.match(code) else "."),
                reason="provider_error",
                tenant_id=portal.tenant_id,
                portal_id=portal.id,
            )
        outcome = portals.finish_sign_in(
            session,
            _box(),
            portal,
            state=state,
            browser_state=request.cookies.get(STATE_COOKIE_PREFIX + state) if state else None,
            code=request.args.get("code", ""),
            remote_addr=request.remote_addr,
        )
    except PortalError as exc:
        _refuse(exc)
    session.commit()
    response = _signed_in(outcome)
    response.delete_cookie(STATE_COOKIE_PREFIX + state, path=_cookie_path(name))
    return response


@bp.get("/portal/<name>/email")
def email_form(name: str) -> ResponseReturnValue:
    """Ask for a sign-in link by email."""
    portal = _portal(name)
    if portal.kind != "email_link":
        return redirect(url_for("portals.login", name=name), code=303)
    return render_template("portals/email_form.html", portal=portal, sent=False)


@bp.post("/portal/<name>/email")
def email_send(name: str) -> ResponseReturnValue:
    """Send a link if the address is an active member's; the page is the same either way."""
    portal = _portal(name)
    session = records.get_session()
    link_url = external_url("portals.email_link", name=name, token=portals.TOKEN_PLACEHOLDER)
    try:
        # The mail goes from a job: a known address answers as fast as an unknown one.
        portals.request_link(
            session,
            portal,
            request.form.get("email", ""),
            link_url,
            remote_addr=request.remote_addr,
        )
    except PortalError as exc:
        _refuse(exc)
    session.commit()
    return render_template("portals/email_form.html", portal=portal, sent=True)


@bp.get("/portal/<name>/link/<token>")
def email_link(name: str, token: str) -> ResponseReturnValue:
    """A link from the email: a button that signs in.

    The link is used up only by the button's POST, so a mail scanner that fetches every
    link in a message cannot spend it.
    """
    portal = _portal(name)
    return render_template("portals/email_link.html", portal=portal, token=token)


@bp.post("/portal/<name>/link/<token>")
def email_link_sign_in(name: str, token: str) -> ResponseReturnValue:
    """Use the link: sign in as the member it was sent to."""
    portal = _portal(name)
    session = records.get_session()
    try:
        outcome = portals.consume_link(session, portal, token, remote_addr=request.remote_addr)
    except PortalError as exc:
        _refuse(exc)
    session.commit()
    return _signed_in(outcome)
