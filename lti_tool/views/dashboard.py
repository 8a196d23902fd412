"""The coordinator's programme dashboard, evaluation export, re-match and alerts."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

import checkins
import programmes
import records
from checkins.dashboard import programme_dashboard
from checkins.export import evaluation_csv

from .. import auth

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def _me() -> auth.CurrentMember:
    member = auth.current_member()
    assert member is not None  # coordinator_required guarantees it
    return member


@bp.get("/<int:programme_id>")
@auth.coordinator_required
def show(programme_id: int) -> ResponseReturnValue:
    """Figures, this cohort beside the previous one, quiet and at-risk pairs, charts."""
    me = _me()
    session = records.get_session()
    board = programme_dashboard(session, me.tenant_id, programme_id)
    coordinator = programmes.Actor(
        tenant_id=me.tenant_id,
        member_id=me.member_id,
        coordinator=True,
        institution_admin=me.institution_admin,
        course_id=me.course_id,
    )
    return render_template(
        "checkins/dashboard.html",
        board=board,
        readiness=programmes.readiness_figures(session, coordinator, programme_id),
        recognition=checkins.recognition(session, me.tenant_id, programme_id),
        milestone_titles=checkins.MILESTONE_TITLES,
        csrf_token=auth.csrf_token(),
    )


@bp.get("/<int:programme_id>/evaluation.csv")
@auth.coordinator_required
def export(programme_id: int) -> ResponseReturnValue:
    """The evaluation as CSV; anonymised unless ``?named=1``."""
    me = _me()
    named = request.args.get("named") == "1"
    text = evaluation_csv(records.get_session(), me.tenant_id, programme_id, anonymise=not named)
    name = f"programme-{programme_id}-evaluation{'-named' if named else ''}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})  # fmt: skip


@bp.post("/<int:programme_id>/matches/<int:match_id>/rematch")
@auth.coordinator_required
def rematch(programme_id: int, match_id: int) -> ResponseReturnValue:
    """Close the pair as re-matched; the mentee goes back to the pool for match day."""
    auth.check_csrf(request.form.get("csrf_token"))
    me = _me()
    session = records.get_session()
    try:
        checkins.rematch_pair(session, me.tenant_id, match_id, me.member_id,
                              reason=request.form.get("reason", ""))  # fmt: skip
        session.commit()
        flash("The pair is closed; the mentee is back in the pool for the next matching run.")
    except (checkins.InvalidInput, checkins.Conflict) as exc:
        session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("dashboard.show", programme_id=programme_id), 303)


@bp.post("/<int:programme_id>/alerts/<int:alert_id>/resolve")
@auth.coordinator_required
def resolve(programme_id: int, alert_id: int) -> ResponseReturnValue:
    auth.check_csrf(request.form.get("csrf_token"))
    me = _me()
    session = records.get_session()
    try:
        checkins.resolve_alert(session, me.tenant_id, alert_id, me.member_id)
        session.commit()
    except checkins.Conflict as exc:
        session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("dashboard.show", programme_id=programme_id), 303)
