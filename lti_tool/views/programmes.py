"""Programme pages: set-up and match day for coordinators, enrolment and choice for members.

Thin: parse the form, call one :mod:`programmes` function, commit, redirect or
render. Invalid input and conflicts come back as a flashed message on the same page
(nothing was written: the request's transaction is rolled back first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

import programmes
import records
from programmes import Actor, ConflictError, InvalidInputError

from .. import auth
from ..i18n import format_date, format_decimal, ngettext
from ..i18n import gettext as _
from ..ids import parse_id

bp = Blueprint("programmes", __name__)


def current_actor() -> Actor:
    """The signed-in member as :mod:`programmes` sees them: tenant, role and the course
    of their launch, which the one access rule scopes a coordinator to."""
    member = auth.current_member()
    assert member is not None  # the decorators guarantee it
    return Actor(
        tenant_id=member.tenant_id,
        member_id=member.member_id,
        coordinator=member.is_coordinator,
        institution_admin=member.institution_admin,
        course_id=member.course_id,
    )


def _form_action(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """For POST views: check CSRF, commit on success; on bad input or a conflict, roll
    back, say why, and go back to the page the form came from."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        auth.check_csrf(request.form.get("csrf_token"))
        session = records.get_session()
        try:
            response = view(*args, **kwargs)
            session.commit()
            return response
        except (InvalidInputError, ConflictError) as exc:
            session.rollback()
            flash(str(exc), "error")
            for field, problem in getattr(exc, "problems", {}).items():
                flash(f"{field}: {problem}", "error")
            return redirect(request.referrer or url_for("programmes.index"), code=303)

    return wrapped


def _int(name: str) -> int:
    raw = request.form.get(name, "")
    if not raw.isdigit():
        abort(400, _("The form is missing a valid %(field)s.", field=name.replace("_", " ")))
    value = parse_id(raw)
    if value is None:
        abort(
            404, _("There is no such %(thing)s.", thing=name.removesuffix("_id").replace("_", " "))
        )
    return value


def form_date(name: str) -> date | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInputError(f"{raw!r} is not a date.", {name: "Use YYYY-MM-DD."}) from None


def _required_date(name: str, message: str) -> date:
    value = form_date(name)
    if value is None:
        raise InvalidInputError(message, {name: "Required."})
    return value


# -- everyone ------------------------------------------------------------------------


@bp.get("/programmes")
@auth.login_required
def index() -> ResponseReturnValue:
    """The programmes the signed-in member or coordinator can see."""
    actor = current_actor()
    listed = programmes.list_programmes(records.get_session(), actor)
    return render_template(
        "programmes/index.html",
        programmes=listed,
        templates=programmes.TEMPLATES,
        coordinator=actor.coordinator,
        csrf_token=auth.csrf_token(),
        today=date.today(),
    )


@bp.get("/programmes/<int:programme_id>")
@auth.login_required
def show(programme_id: int) -> ResponseReturnValue:
    """A member's page of a programme: enrol, answers, matches to accept or decline."""
    actor = current_actor()
    page = programmes.member_programme(records.get_session(), actor, programme_id)
    definition = page.programme.questionnaire
    return render_template(
        "programmes/member.html",
        page=page,
        questions={role: programmes.questions_for(definition, role) for role in page.roles},
        time_zones=programmes.time_zone_choices(),
        coordinator=actor.coordinator,
        csrf_token=auth.csrf_token(),
    )


@bp.post("/programmes/<int:programme_id>/enrol")
@auth.login_required
@_form_action
def enrol(programme_id: int) -> ResponseReturnValue:
    actor = current_actor()
    session = records.get_session()
    role = request.form.get("role", "")
    programme = programmes.get_programme(session, actor, programme_id)
    answers = programmes.parse_form(programme.questionnaire, role, request.form.to_dict(flat=False))
    programmes.enrol(
        session, actor, programme_id, role, answers, capacity=request.form.get("capacity")
    )
    flash(_("You are enrolled. You can change your answers until matching starts."), "ok")
    return redirect(url_for("programmes.show", programme_id=programme_id), code=303)


@bp.post("/programmes/<int:programme_id>/answers")
@auth.login_required
@_form_action
def update_answers(programme_id: int) -> ResponseReturnValue:
    actor = current_actor()
    session = records.get_session()
    page = programmes.member_programme(session, actor, programme_id)
    if page.participant is None:
        raise ConflictError("You are not enrolled in this programme.")
    answers = programmes.parse_form(
        page.programme.questionnaire, page.participant.role, request.form.to_dict(flat=False)
    )
    programmes.update_answers(
        session, actor, programme_id, answers, capacity=request.form.get("capacity")
    )
    flash(_("Your answers are saved."), "ok")
    return redirect(url_for("programmes.show", programme_id=programme_id), code=303)


@bp.post("/programmes/<int:programme_id>/withdraw")
@auth.login_required
@_form_action
def withdraw(programme_id: int) -> ResponseReturnValue:
    programmes.withdraw(records.get_session(), current_actor(), programme_id)
    flash(_("You have left the programme."), "ok")
    return redirect(url_for("programmes.show", programme_id=programme_id), code=303)


@bp.get("/programmes/<int:programme_id>/guides/<any(mentor, mentee):role>")
@auth.login_required
def guide(programme_id: int, role: str) -> ResponseReturnValue:
    """The programme's guide for mentors or mentees, with "mark as read"."""
    page = programmes.guide_page(records.get_session(), current_actor(), programme_id, role)
    return render_template("programmes/guide.html", page=page, csrf_token=auth.csrf_token())


@bp.post("/programmes/<int:programme_id>/guides/<any(mentor, mentee):role>/read")
@auth.login_required
@_form_action
def guide_read(programme_id: int, role: str) -> ResponseReturnValue:
    programmes.mark_guide_read(records.get_session(), current_actor(), programme_id, role)
    flash(_("Marked as read. Thank you."), "ok")
    return redirect(url_for("programmes.show", programme_id=programme_id), code=303)


@bp.post("/matches/<int:match_id>/respond")
@auth.login_required
@_form_action
def respond(match_id: int) -> ResponseReturnValue:
    accept = request.form.get("answer") == "accept"
    match = programmes.respond(
        records.get_session(),
        current_actor(),
        match_id,
        accept=accept,
        reason=request.form.get("reason", ""),
    )
    flash(_("You accepted the match.") if accept else _("You declined the match."), "ok")
    return redirect(url_for("programmes.show", programme_id=match.programme_id), code=303)


@bp.get("/programmes/<int:programme_id>/mentors")
@auth.login_required
def mentors(programme_id: int) -> ResponseReturnValue:
    """Mentee choice and hybrid: mentors ranked for the signed-in mentee, with reasons."""
    actor = current_actor()
    session = records.get_session()
    page = programmes.member_programme(session, actor, programme_id)
    programmes.lapse_overdue_requests(session, actor.tenant_id, programme_id)
    profiles = programmes.ranked_mentors(session, actor, programme_id)
    session.commit()
    return render_template(
        "programmes/mentors.html", page=page, profiles=profiles, csrf_token=auth.csrf_token()
    )


@bp.post("/programmes/<int:programme_id>/request")
@auth.login_required
@_form_action
def request_mentor(programme_id: int) -> ResponseReturnValue:
    programmes.request_mentor(
        records.get_session(), current_actor(), programme_id, _int("mentor_id")
    )
    flash(_("Your request is sent; the mentor will answer within a few days."), "ok")
    return redirect(url_for("programmes.show", programme_id=programme_id), code=303)


# -- coordinators ------------------------------------------------------------------------


@bp.post("/programmes/new")
@auth.coordinator_required
@_form_action
def create() -> ResponseReturnValue:
    programme = programmes.create_from_template(
        records.get_session(),
        current_actor(),
        request.form.get("template", ""),
        name=request.form.get("name", "").strip() or None,
        starts_on=form_date("starts_on"),
    )
    flash(_("%(programme)s is set up and open for enrolment.", programme=programme.name), "ok")
    return redirect(url_for("programmes.settings", programme_id=programme.id), code=303)


@bp.get("/programmes/<int:programme_id>/settings")
@auth.coordinator_required
def settings(programme_id: int) -> ResponseReturnValue:
    session, actor = records.get_session(), current_actor()
    readiness = programmes.readiness_form(session, actor, programme_id)
    return render_template(
        "programmes/settings.html",
        programme=readiness.programme,
        readiness=readiness,
        editor=programmes.questionnaire_editor(session, actor, programme_id),
        time_zones=programmes.time_zone_choices(),
        csrf_token=auth.csrf_token(),
    )


def _questionnaire_draft() -> dict[str, Any]:
    """The editor's posted fields as a definition (CSRF checked first)."""
    auth.check_csrf(request.form.get("csrf_token"))
    return programmes.definition_from_form(request.form.to_dict(flat=False))


@bp.post("/programmes/<int:programme_id>/questionnaire")
@auth.coordinator_required
def save_questionnaire(programme_id: int) -> ResponseReturnValue:
    """Save the editor's questionnaire. Bad input or a locked questionnaire is a plain
    4xx page (the error handler's) and nothing is written."""
    draft = _questionnaire_draft()
    session = records.get_session()
    programmes.edit_questionnaire(session, current_actor(), programme_id, draft)
    session.commit()
    flash(_("The questionnaire is saved."), "ok")
    return redirect(
        url_for("programmes.settings", programme_id=programme_id, _anchor="questionnaire"),
        code=303,
    )


@bp.post("/programmes/<int:programme_id>/questionnaire/preview")
@auth.coordinator_required
def preview_questionnaire(programme_id: int) -> ResponseReturnValue:
    """The members' form as the editor's draft would show it; writes nothing. The
    editor's script asks for the fragment alone; without script, the Preview button
    gets the editor and preview as a page."""
    editor = programmes.questionnaire_editor(
        records.get_session(), current_actor(), programme_id, _questionnaire_draft()
    )
    page = (
        "programmes/_questionnaire_preview.html"
        if request.args.get("fragment")
        else "programmes/questionnaire_preview.html"
    )
    return render_template(
        page,
        editor=editor,
        time_zones=programmes.time_zone_choices(),
        csrf_token=auth.csrf_token(),
    ), (400 if editor.problem else 200)


def _optional_id(name: str) -> int | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        abort(400, _("The form's %(field)s is not a course id.", field=name.replace("_", " ")))
    return int(raw)


@bp.post("/programmes/<int:programme_id>/readiness")
@auth.coordinator_required
@_form_action
def save_readiness(programme_id: int) -> ResponseReturnValue:
    rules = {
        role: programmes.ReadinessRule(
            course_id=_optional_id(f"{role}_course"),
            guide=request.form.get(f"{role}_guide") == "on",
        )
        for role in ("mentor", "mentee")
    }
    programmes.set_readiness(records.get_session(), current_actor(), programme_id, rules)
    flash(_("Readiness rules saved."), "ok")
    return redirect(url_for("programmes.settings", programme_id=programme_id), code=303)


@bp.post("/programmes/<int:programme_id>/guides/<any(mentor, mentee):role>/text")
@auth.coordinator_required
@_form_action
def save_guide(programme_id: int, role: str) -> ResponseReturnValue:
    programmes.set_guide(
        records.get_session(),
        current_actor(),
        programme_id,
        role,
        request.form.get("mode", ""),
        request.form.get("markdown", ""),
    )
    flash(
        _("The mentor guide is saved.") if role == "mentor" else _("The mentee guide is saved."),
        "ok",
    )
    return redirect(url_for("programmes.settings", programme_id=programme_id), code=303)


@bp.post("/programmes/<int:programme_id>/settings")
@auth.coordinator_required
@_form_action
def save_settings(programme_id: int) -> ResponseReturnValue:
    session = records.get_session()
    actor = current_actor()
    current = programmes.coordinated_programme(session, actor, programme_id)
    questionnaire = dict(current.questionnaire)
    rules = [dict(rule) for rule in questionnaire.get("rules", [])]
    for number, rule in enumerate(rules):
        raw = request.form.get(f"weight_{number}")
        if raw is not None:
            try:
                rule["weight"] = float(raw)
            except ValueError:
                raise InvalidInputError(
                    "Weights are numbers from 0 to 10.", {f"weight_{number}": raw}
                ) from None
    questionnaire["rules"] = rules

    def number(name: str, default: int) -> int:
        raw = request.form.get(name, "")
        try:
            return int(raw) if raw.strip() else default
        except ValueError:
            raise InvalidInputError(f"{name} must be a whole number.", {name: raw}) from None

    data = programmes.ProgrammeInput(
        name=request.form.get("name", current.name),
        purpose=request.form.get("purpose", current.purpose),
        objectives=tuple(request.form.get("objectives", "").splitlines()),
        kind=request.form.get("kind", current.kind),
        matching_mode=request.form.get("matching_mode", current.matching_mode),
        starts_on=form_date("starts_on") or current.starts_on,
        ends_on=form_date("ends_on") or current.ends_on,
        cadence_days=number("cadence_days", current.cadence_days),
        default_capacity=number("default_capacity", current.default_capacity),
        questionnaire=questionnaire,
    )
    programmes.update_programme(session, actor, programme_id, data)
    flash(_("Saved."), "ok")
    return redirect(url_for("programmes.settings", programme_id=programme_id), code=303)


@bp.post("/programmes/<int:programme_id>/copy")
@auth.coordinator_required
@_form_action
def copy(programme_id: int) -> ResponseReturnValue:
    starts_on = _required_date("starts_on", "Give the new cohort a start date.")
    programme = programmes.copy_programme(
        records.get_session(),
        current_actor(),
        programme_id,
        name=request.form.get("name", "").strip() or "Next cohort",
        starts_on=starts_on,
    )
    flash(_("%(programme)s is ready for enrolment.", programme=programme.name), "ok")
    return redirect(url_for("programmes.settings", programme_id=programme.id), code=303)


@bp.get("/programmes/<int:programme_id>/match")
@auth.coordinator_required
def board(programme_id: int) -> ResponseReturnValue:
    """Match day: the draft, unmatched mentees and why, mentor capacity used."""
    page = request.args.get("page", "1")
    board = programmes.draft_board(
        records.get_session(), current_actor(), programme_id, page=parse_id(page) or 1
    )
    return render_template(
        "programmes/board.html",
        board=board,
        objectives=programmes.OBJECTIVES,
        csrf_token=auth.csrf_token(),
    )


def _back_to_board(
    programme_id: int, done: str | None = None, warnings: Iterable[str] = ()
) -> ResponseReturnValue:
    """Say what happened (warnings first) and go back to the match-day board."""
    for warning in warnings:
        flash(warning, "warning")
    if done:
        flash(done, "ok")
    return redirect(url_for("programmes.board", programme_id=programme_id), code=303)


@bp.post("/programmes/<int:programme_id>/match/run")
@auth.coordinator_required
@_form_action
def run(programme_id: int) -> ResponseReturnValue:
    summary = programmes.run_matching(
        records.get_session(),
        current_actor(),
        programme_id,
        objective=request.form.get("objective", "max_score"),
    )
    flash(
        _(
            "Draft ready: %(proposed)s new pairs, %(held)s kept, %(unmatched)s unmatched "
            "(%(seconds)s s).",
            proposed=summary.proposed,
            held=summary.held,
            unmatched=summary.unmatched,
            seconds=format_decimal(summary.seconds, 2),
        ),
        "ok",
    )
    return _back_to_board(programme_id)


@bp.post("/programmes/<int:programme_id>/match/assign")
@auth.coordinator_required
@_form_action
def assign(programme_id: int) -> ResponseReturnValue:
    _match, warnings = programmes.assign_pair(
        records.get_session(), current_actor(), programme_id, _int("mentee_id"), _int("mentor_id")
    )
    return _back_to_board(programme_id, _("Pair added to the draft and locked."), warnings)


@bp.post("/programmes/<int:programme_id>/match/swap")
@auth.coordinator_required
@_form_action
def swap(programme_id: int) -> ResponseReturnValue:
    warnings = programmes.swap_mentors(
        records.get_session(), current_actor(), programme_id, _int("first_id"), _int("second_id")
    )
    return _back_to_board(programme_id, _("Mentors swapped."), warnings)


@bp.post("/programmes/<int:programme_id>/match/<int:match_id>/<any(lock, unlock, remove):what>")
@auth.coordinator_required
@_form_action
def change_pair(programme_id: int, match_id: int, what: str) -> ResponseReturnValue:
    session = records.get_session()
    if what == "remove":
        programmes.remove_pair(session, current_actor(), programme_id, match_id)
    else:
        programmes.set_locked(session, current_actor(), programme_id, match_id, what == "lock")
    return _back_to_board(programme_id)


@bp.post("/programmes/<int:programme_id>/match/publish")
@auth.coordinator_required
@_form_action
def publish(programme_id: int) -> ResponseReturnValue:
    count = programmes.publish(records.get_session(), current_actor(), programme_id)
    flash(
        ngettext(
            "Published %(num)s pair: both sides can now accept or decline.",
            "Published %(num)s pairs: both sides can now accept or decline.",
            count,
        ),
        "ok",
    )
    return _back_to_board(programme_id)


@bp.post("/programmes/<int:programme_id>/shortlists")
@auth.coordinator_required
@_form_action
def shortlists(programme_id: int) -> ResponseReturnValue:
    deadline = _required_date("choose_by", "Give mentees a date to choose by.")
    count = programmes.open_shortlists(
        records.get_session(),
        current_actor(),
        programme_id,
        datetime.combine(deadline, time(23, 59), tzinfo=UTC),
    )
    flash(
        _(
            "Shortlists open for %(count)s mentees until %(date)s.",
            count=count,
            date=format_date(deadline, "long"),
        ),
        "ok",
    )
    return _back_to_board(programme_id)
