"""The Demo LMS pages (``tandem demo`` only): launch Tandem as any demo member."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

import records
from platforms import demo_platform

from ..i18n import gettext as _
from ..urls import base_url, external_url

bp = Blueprint("demo_lms", __name__, url_prefix="/demo-lms")


@bp.before_request
def _demo_only() -> None:
    # Outside demo mode the Demo LMS does not exist: it would sign launches for anyone.
    if not current_app.config.get("TANDEM_DEMO"):
        abort(404)


@bp.get("")
def index() -> ResponseReturnValue:
    """Everyone the demo course has, each with a link that launches Tandem as them."""
    session = records.get_session()
    tenant = demo_platform.ensure_demo_platform(
        session, current_app.extensions["tandem.secrets"], base_url()
    )
    if tenant is None:
        abort(404, _("There is no demo data: start Tandem with `tandem demo`."))
    session.commit()
    launch_url = external_url("lti.launch")
    people = [
        (
            person,
            url_for("lti.login")
            + "?"
            + urlencode(
                demo_platform.login_parameters(
                    tenant, person.login_hint, launch_url, request.args.get("locale")
                )
            ),
        )
        for person in demo_platform.demo_people(session, tenant.id)
    ]
    return render_template("lti/demo_lms.html", people=people, course=demo_platform.CONTEXT)


@bp.get("/authorize")
def authorize() -> ResponseReturnValue:
    """The Demo LMS's OIDC authentication endpoint: a signed id_token, posted back."""
    form = demo_platform.authorize(
        records.get_session(),
        current_app.extensions["tandem.secrets"],
        request.args.to_dict(),
        external_url("lti.launch"),
    )
    return render_template(
        "lti/autopost.html", title=_("Opening Tandem"), action=url_for("lti.launch"), fields=form
    )


@bp.get("/jwks")
def jwks() -> ResponseReturnValue:
    """The Demo LMS's public key set."""
    return jsonify(demo_platform.demo_key_set(records.get_session()))
