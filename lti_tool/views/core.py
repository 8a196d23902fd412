"""The home page and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

import records
from programmes import demo_overview

bp = Blueprint("core", __name__)


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
