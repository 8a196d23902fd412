"""A member's own data ("My data": see it, download it, ask to erase it) and the privacy page.

Thin: each view calls one ``programmes`` or ``members`` function and renders.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

import members
import programmes
import records

from .. import auth
from ..i18n import gettext as _

bp = Blueprint("privacy", __name__)


def _me() -> auth.CurrentMember:
    member = auth.current_member()
    assert member is not None  # login_required guarantees it
    return member


@bp.app_context_processor
def _member_links() -> dict[str, bool]:
    # base.html shows "My data" and "Privacy" on every page a member is signed in to.
    return {"member_signed_in": auth.current_member() is not None}


@bp.get("/my-data")
@auth.login_required
def my_data() -> ResponseReturnValue:
    """What Tandem holds about the member, who sees each part, downloads, erasure."""
    me = _me()
    data = programmes.member_data(records.get_session(), me.tenant_id, me.member_id)
    return render_template("privacy/my_data.html", data=data, sections=programmes.SECTIONS,
                           csrf_token=auth.csrf_token())  # fmt: skip


@bp.get("/my-data.json")
@auth.login_required
def my_data_json() -> ResponseReturnValue:
    me = _me()
    data = programmes.member_data(records.get_session(), me.tenant_id, me.member_id)
    return Response(
        json.dumps(data, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": "attachment; filename=my-tandem-data.json"},
    )


@bp.get("/my-data.html")
@auth.login_required
def my_data_html() -> ResponseReturnValue:
    """The same data as one readable page to keep (no links, no forms)."""
    me = _me()
    data = programmes.member_data(records.get_session(), me.tenant_id, me.member_id)
    page = render_template("privacy/my_data_download.html", data=data,
                           sections=programmes.SECTIONS)  # fmt: skip
    return Response(
        page,
        mimetype="text/html",
        headers={"Content-Disposition": "attachment; filename=my-tandem-data.html"},
    )


@bp.post("/my-data/erasure-request")
@auth.login_required
def erasure_request() -> ResponseReturnValue:
    """Ask for the member's mentoring data to be erased; reaches coordinators and operators."""
    auth.check_csrf(request.form.get("csrf_token"))
    me = _me()
    session = records.get_session()
    programmes.request_erasure(session, me.tenant_id, me.member_id)
    session.commit()
    flash(_("Your request is in. Your coordinators and the people who run Tandem can see it; "
            "it will be carried out within a month."), "success")  # fmt: skip
    return redirect(url_for("privacy.my_data"), 303)


@bp.get("/privacy")
@auth.login_required
def privacy() -> ResponseReturnValue:
    """What is collected, why, who sees it, how long it is kept, how to get or erase it."""
    me = _me()
    policy = members.tenant_privacy(records.get_session(), me.tenant_id)
    return render_template("privacy/privacy.html", policy=policy, sections=programmes.SECTIONS)
