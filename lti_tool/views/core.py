"""The home page, the health check and signing out."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

import portals
import records
from programmes import demo_overview

from .. import auth
from ..urls import external_url
from .portals import PORTAL_SIGN_OUT

bp = Blueprint("core", __name__)


@bp.app_context_processor
def _sign_out_form() -> dict[str, Any]:
    """What every page's "Sign out" button needs: shown only to a signed-in member."""
    if auth.current_member() is None:
        return {"sign_out": None}
    # Signing out at a portal leaves Tandem's frame: the portal's page must not be framed.
    target = "_top" if PORTAL_SIGN_OUT in session else None
    return {"sign_out": {"csrf_token": auth.csrf_token(), "target": target}}


@bp.get("/")
def home() -> ResponseReturnValue:
    """What Tandem is; in demo mode, the demo programme and its members."""
    overview = None
    if current_app.config["TANDEM_DEMO"]:
        overview = demo_overview(records.get_session())
    return render_template("home.html", overview=overview)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness, with database reachability (a load balancer's check)."""
    try:
        records.get_database().ping()
    except SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/sign-out")
def sign_out_page() -> ResponseReturnValue:
    """Signed in: a button that signs out. Signed out (also where a portal sends the
    browser back after its own sign-out): says so."""
    return render_template("signed_out.html", signed_in=auth.current_member() is not None)


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    """End Tandem's session; for a portal that offers it, sign out there too."""
    member = auth.current_member()
    if member is not None:
        auth.check_csrf(request.form.get("csrf_token"))
    portal = session.get(PORTAL_SIGN_OUT)
    target = None
    if member is not None and isinstance(portal, dict) and isinstance(portal.get("portal_id"), int):
        target = portals.sign_out_url(
            records.get_session(),
            member.tenant_id,
            portal["portal_id"],
            id_token_hint=portal.get("id_token_hint"),
            post_logout_redirect_uri=external_url("core.sign_out_page"),
        )
    auth.sign_out()
    return redirect(target or url_for("core.sign_out_page"), code=303)
