"""Member-portal sign-in: OpenID Connect (``/portal/NAME/login``) or a link by email.

Thin: each view parses the request, calls :mod:`portals`, commits, signs in and
redirects to the same pages an LMS launch lands on.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import NoReturn

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

import portals
import records
from platforms import COORDINATOR
from portals import PortalError, PortalOutcome
from portals.audit import record as audit
from records import Portal

from .. import auth, security
from ..urls import cookie_flags, external_url

log = logging.getLogger(__name__)

bp = Blueprint("portals", __name__)

# One cookie per sign-in, named by its state: two tabs signing in at once do not clash.
STATE_COOKIE_PREFIX = "portal_state_"
STATE_COOKIE_MAX_AGE = 600
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")
# The browser that asks for a sign-in link gets a random value; the link keeps its hash.
LINK_BROWSER_COOKIE = "tandem_link_browser"
# The link's page, opened in another browser, gives it a one-off confirmation value (in a
# cookie and in the form) that a cross-site post cannot know.
LINK_CONFIRM_COOKIE = "tandem_link_confirm"
_COOKIE_VALUE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The session key naming the portal to sign out at (see core.sign_out).
PORTAL_SIGN_OUT = "portal_sign_out"


def _box() -> records.SecretBox:
    return current_app.extensions["tandem.secrets"]


def _portal(name: str) -> Portal:
    """The named portal; its pages may be framed by its origins from here on."""
    try:
        portal = portals.get_portal(records.get_session(), name)
    except PortalError as exc:
        _refuse(exc, name)
    assert portal is not None
    security.allow_framing_by(portal.origins)
    return portal


def _refuse(exc: PortalError, name: str, *, spend_link: str | None = None) -> NoReturn:
    """Undo everything the request wrote, keep one audit row and one log line (reason and
    portal, never a secret or token), and re-raise for the page.

    ``spend_link``: a sign-in link's token that the refusal must still use up (the
    rollback would otherwise put it back). The audit row names the route, never the
    path: a link's path carries its token.
    """
    # One line, whatever the URL or the provider put in the name or message.
    line = _CONTROL.sub(" ", f"{name[:50]} refused a sign-in: {exc.reason}: {exc.detail or exc}")
    log.warning("portal %s", line)
    session = records.get_session()
    session.rollback()
    if spend_link:
        portals.spend_link(session, spend_link)
    audit(
        session,
        "portal.sign_in_refused",
        tenant_id=exc.tenant_id,
        portal_id=exc.portal_id,
        detail={
            "reason": exc.reason,
            "message": str(exc),
            "path": request.url_rule.rule if request.url_rule else "",
        },
        remote_addr=request.remote_addr,
    )
    session.commit()
    raise exc


def _cookie_value(name: str) -> str | None:
    value = request.cookies.get(name, "")
    return value if _COOKIE_VALUE.match(value) else None


def _set_link_cookie(response: Response, name: str, value: str, path: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(portals.LINK_LIFETIME.total_seconds()),
        path=path,
        **cookie_flags(),
    )


def _signed_in(outcome: PortalOutcome) -> Response:
    """Replace whatever session there was with this member's, and land on their page.

    Commits the sign-in together with the session's record.
    """
    auth.sign_in(outcome, outcome.origins)
    if outcome.id_token_hint is not None:
        # The portal offers RP-initiated logout: /sign-out sends the browser there too.
        flask_session[PORTAL_SIGN_OUT] = {
            "portal_id": outcome.portal_id,
            "id_token_hint": outcome.id_token_hint,
        }
    records.get_session().commit()
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
        _refuse(exc, name)
    session.commit()
    response = redirect(start.url, code=302)
    # The provider sends the browser back with a top-level GET, which Lax cookies reach;
    # inside a portal's iframe over https only SameSite=None does (cookie_flags()).
    response.set_cookie(
        STATE_COOKIE_PREFIX + start.state,
        start.state,
        max_age=STATE_COOKIE_MAX_AGE,
        path=_cookie_path(name),
        **cookie_flags(),
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
        _refuse(exc, name)
    response = _signed_in(outcome)
    response.delete_cookie(STATE_COOKIE_PREFIX + state, path=_cookie_path(name), **cookie_flags())
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
    # Every asker gets the cookie, known address or not: the answer tells nothing.
    browser = _cookie_value(LINK_BROWSER_COOKIE) or secrets.token_urlsafe(24)
    link_url = external_url("portals.email_link", name=name, token=portals.TOKEN_PLACEHOLDER)
    try:
        # The mail goes from a job: a known address answers as fast as an unknown one.
        portals.request_link(
            session,
            portal,
            request.form.get("email", ""),
            link_url,
            browser=browser,
            remote_addr=request.remote_addr,
        )
    except PortalError as exc:
        _refuse(exc, name)
    session.commit()
    response = current_app.make_response(
        render_template("portals/email_form.html", portal=portal, sent=True)
    )
    _set_link_cookie(response, LINK_BROWSER_COOKIE, browser, request.script_root + "/portal/")
    return response


@bp.get("/portal/<name>/link/<token>")
def email_link(name: str, token: str) -> ResponseReturnValue:
    """A link from the email: "You are signing in as NAME", and a button that signs in.

    The link is used up only by the button's POST, so a mail scanner that fetches every
    link in a message cannot spend it. Opened in another browser than the one that asked
    for it, the page says so and gives this browser the confirmation the POST needs.
    """
    portal = _portal(name)
    try:
        preview = portals.preview_link(
            records.get_session(), portal, token, browser=_cookie_value(LINK_BROWSER_COOKIE)
        )
    except PortalError as exc:
        _refuse(exc, name)
    confirm = None if preview.same_browser else secrets.token_urlsafe(24)
    response = current_app.make_response(
        render_template(
            "portals/email_link.html", portal=portal, token=token, preview=preview, confirm=confirm
        )
    )
    if confirm:
        _set_link_cookie(response, LINK_CONFIRM_COOKIE, confirm, request.script_root + request.path)
    return response


@bp.post("/portal/<name>/link/<token>")
def email_link_sign_in(name: str, token: str) -> ResponseReturnValue:
    """Use the link: sign in as the member it was sent to. Any refusal spends it."""
    portal = _portal(name)
    session = records.get_session()
    expected = _cookie_value(LINK_CONFIRM_COOKIE)
    given = request.form.get("confirm", "")
    confirmed = bool(expected) and secrets.compare_digest(expected or "", given)
    try:
        outcome = portals.consume_link(
            session,
            portal,
            token,
            browser=_cookie_value(LINK_BROWSER_COOKIE),
            confirmed=confirmed,
            remote_addr=request.remote_addr,
        )
    except PortalError as exc:
        _refuse(exc, name, spend_link=token)
    response = _signed_in(outcome)
    response.delete_cookie(
        LINK_CONFIRM_COOKIE, path=request.script_root + request.path, **cookie_flags()
    )
    return response
