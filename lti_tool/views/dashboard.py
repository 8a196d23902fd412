"""The coordinator's programme dashboard, evaluation export, re-match and alerts.

Each view loads the programme through :mod:`programmes` (the one course-scoped access
rule set-up and match day use), which checks the match or alert against it.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

import checkins
import programmes
import records

from .. import auth, i18n
from ..i18n import gettext as _
from .programmes import current_actor

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("/<int:programme_id>")
@auth.coordinator_required
def show(programme_id: int) -> ResponseReturnValue:
    """Figures, this cohort beside the previous one, quiet and at-risk pairs, charts."""
    actor = current_actor()
    session = records.get_session()
    # The charts' words come from the same catalogue as the page's, in its language.
    board = programmes.programme_dashboard(session, actor, programme_id, t=i18n)
    # Members of this programme who asked for erasure: the coordinator may add a note,
    # never block; an institution administrator may carry the request out.
    erasures = programmes.pending_requests(session, actor.tenant_id, programme_id=programme_id)
    return render_template(
        "checkins/dashboard.html",
        board=board,
        readiness=programmes.readiness_figures(session, actor, programme_id),
        recognition=checkins.recognition(session, actor.tenant_id, programme_id),
        milestone_titles=checkins.MILESTONE_TITLES,
        csrf_token=auth.csrf_token(),
        erasures=erasures,
        institution_admin=actor.institution_admin,
    )


@bp.get("/<int:programme_id>/evaluation.csv")
@auth.coordinator_required
def export(programme_id: int) -> ResponseReturnValue:
    """The evaluation as CSV; anonymised unless ``?named=1``."""
    named = request.args.get("named") == "1"
    text = programmes.evaluation_csv(
        records.get_session(), current_actor(), programme_id, anonymise=not named
    )
    name = f"programme-{programme_id}-evaluation{'-named' if named else ''}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})  # fmt: skip


@bp.post("/<int:programme_id>/matches/<int:match_id>/rematch")
@auth.coordinator_required
def rematch(programme_id: int, match_id: int) -> ResponseReturnValue:
    """Close the pair as re-matched; the mentee goes back to the pool for match day."""
    auth.check_csrf(request.form.get("csrf_token"))
    session = records.get_session()
    try:
        programmes.rematch_pair(session, current_actor(), programme_id, match_id,
                                reason=request.form.get("reason", ""))  # fmt: skip
        session.commit()
        flash(_("The pair is closed; the mentee is back in the pool for the next matching run."))
    except (checkins.InvalidInput, checkins.Conflict) as exc:
        session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("dashboard.show", programme_id=programme_id), 303)


@bp.post("/<int:programme_id>/alerts/<int:alert_id>/resolve")
@auth.coordinator_required
def resolve(programme_id: int, alert_id: int) -> ResponseReturnValue:
    auth.check_csrf(request.form.get("csrf_token"))
    session = records.get_session()
    try:
        programmes.resolve_alert(session, current_actor(), programme_id, alert_id)
        session.commit()
    except checkins.Conflict as exc:
        session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("dashboard.show", programme_id=programme_id), 303)


@bp.post("/<int:programme_id>/erasure-requests/<int:request_id>/note")
@auth.coordinator_required
def note_erasure(programme_id: int, request_id: int) -> ResponseReturnValue:
    """Add a note for the operator to a member's erasure request (it cannot stop it)."""
    auth.check_csrf(request.form.get("csrf_token"))
    session = records.get_session()
    programmes.note_request(session, current_actor(), programme_id, request_id,
                            request.form.get("note", ""))  # fmt: skip
    session.commit()
    flash(_("Your note is on the request."))
    return redirect(url_for("dashboard.show", programme_id=programme_id) + "#erasures", 303)


@bp.post("/<int:programme_id>/erasure-requests/<int:request_id>/erase")
@auth.coordinator_required
def erase(programme_id: int, request_id: int) -> ResponseReturnValue:
    """Carry out an erasure request (institution administrators only)."""
    auth.check_csrf(request.form.get("csrf_token"))
    session = records.get_session()
    programmes.carry_out_request(session, current_actor(), programme_id, request_id)
    session.commit()
    flash(_("The member's data is erased."))
    return redirect(url_for("dashboard.show", programme_id=programme_id) + "#erasures", 303)
