"""The member's side of the running relationship: agreement, check-ins, surveys, flags.

Thin: parse the form, call one :mod:`checkins` function, commit, redirect. Bad
input and conflicts come back as a flashed message on the member page (nothing written:
the request's transaction is rolled back first); other check-in errors reach the one
error handler.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

import checkins
import records
import translations
from checkins.ics import zone
from checkins.overview import learning_history, member_page

from .. import auth, i18n
from ..i18n import gettext as _
from ..urls import base_host

bp = Blueprint("checkins", __name__, url_prefix="/checkins")


def _me() -> auth.CurrentMember:
    member = auth.current_member()
    assert member is not None  # login_required guarantees it
    return member


def _poster() -> checkins.ProgressPoster | None:
    # The LTI layer's AGS service, as a job (retried while the LMS is down); checkins
    # itself does not import the LTI layer.
    from platforms import defer_progress

    return defer_progress


def _form_action(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Check CSRF, commit on success; on bad input or a conflict roll back and say why."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        auth.check_csrf(request.form.get("csrf_token"))
        session = records.get_session()
        try:
            response = view(*args, **kwargs)
            session.commit()
            return response
        except (checkins.InvalidInput, checkins.Conflict) as exc:
            session.rollback()
            flash(str(exc), "error")
            return redirect(
                url_for("checkins.member") + f"#match-{kwargs.get('match_id', '')}", 303
            )

    return wrapped


def _back(match_id: int, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("checkins.member") + f"#match-{match_id}", 303)


def _int(name: str, default: int | None = None) -> int | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise checkins.InvalidInput(
            f"{name.replace('_', ' ')} {raw!r} is not a whole number"
        ) from None


def _date(name: str) -> date:
    raw = request.form.get(name, "").strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise checkins.InvalidInput(f"{name.replace('_', ' ')} {raw!r} is not a date") from None


@bp.get("/")
@auth.login_required
def member() -> ResponseReturnValue:
    """The member page: pairs, agreement, meetings, surveys, prompt, learning history."""
    me = _me()
    session = records.get_session()
    page = member_page(session, me.tenant_id, me.member_id)
    return render_template(
        "checkins/member.html", page=page, formats=checkins.FORMATS,
        titles=checkins.SURVEY_TITLES, csrf_token=auth.csrf_token(),
    )  # fmt: skip


@bp.post("/matches/<int:match_id>/agreement")
@auth.login_required
@_form_action
def save_agreement(match_id: int) -> ResponseReturnValue:
    me = _me()
    goals = [
        {"goal": text, "by": by}
        for text, by in zip(
            request.form.getlist("goal"), request.form.getlist("goal_by"), strict=False
        )
    ]
    draft = checkins.AgreementDraft(
        goals=goals,
        meeting_frequency=request.form.get("meeting_frequency", ""),
        channel=request.form.get("channel", ""),
        confidentiality=request.form.get("confidentiality", ""),
        out_of_scope=request.form.get("out_of_scope", ""),
    )
    checkins.save_agreement(records.get_session(), me.tenant_id, match_id, me.member_id, draft)
    return _back(match_id, _("Agreement saved. Both of you now sign it."))


@bp.post("/matches/<int:match_id>/agreement/sign")
@auth.login_required
@_form_action
def sign_agreement(match_id: int) -> ResponseReturnValue:
    me = _me()
    checkins.sign_agreement(
        records.get_session(), me.tenant_id, match_id, me.member_id, poster=_poster()
    )
    return _back(match_id, _("You signed the agreement."))


@bp.post("/matches/<int:match_id>/agreement/consent")
@auth.login_required
@_form_action
def consent(match_id: int) -> ResponseReturnValue:
    me = _me()
    share = request.form.get("share") == "yes"
    checkins.set_learning_history_consent(
        records.get_session(), me.tenant_id, match_id, me.member_id, share
    )
    return _back(match_id, _("Your mentor can now see your learning history.") if share
                 else _("Your learning history is private to you."))  # fmt: skip


@bp.post("/matches/<int:match_id>/checkins")
@auth.login_required
@_form_action
def log_checkin(match_id: int) -> ResponseReturnValue:
    me = _me()
    next_at = None
    raw_next = request.form.get("next_meeting_at", "").strip()
    if raw_next:
        try:
            local = datetime.fromisoformat(raw_next)
        except ValueError:
            raise checkins.InvalidInput(
                f"next meeting {raw_next!r} is not a date and time"
            ) from None
        zone_info = zone(request.form.get("time_zone") or None)
        next_at = local.replace(tzinfo=zone_info)
    draft = checkins.CheckinDraft(
        met_on=_date("met_on"),
        duration_minutes=_int("duration_minutes", 0) or 0,
        format=request.form.get("format", "video"),
        topics=request.form.getlist("topics"),
        summary=request.form.get("summary", ""),
        private_notes=request.form.get("private_notes", ""),
        next_meeting_at=next_at,
    )
    checkins.log_checkin(
        records.get_session(), me.tenant_id, match_id, me.member_id, draft, poster=_poster()
    )
    return _back(match_id, _("Check-in logged."))


@bp.get("/matches/<int:match_id>/checkins/<int:checkin_id>/invite.ics")
@auth.login_required
def invite(match_id: int, checkin_id: int) -> ResponseReturnValue:
    """The next meeting as a calendar file, in the member's time zone."""
    me = _me()
    session = records.get_session()
    checkin = checkins.get_checkin(session, me.tenant_id, match_id, checkin_id, me.member_id)
    if checkin.next_meeting_at is None:
        raise checkins.NotFound("this check-in scheduled no next meeting")
    side = checkins.pair_side(session, me.tenant_id, match_id, me.member_id)
    member = session.get(records.Member, me.member_id)
    # The file is the member's own: in their language, whichever browser downloads it.
    t = translations.for_member(member, i18n.current_locale())
    body = checkins.meeting_invite(
        uid=f"tandem-checkin-{checkin.id}@{base_host()}",
        start=checkin.next_meeting_at,
        duration_minutes=checkin.duration_minutes,
        time_zone=(member.time_zone if member else None) or request.args.get("tz"),
        summary=t.gettext("Mentoring: %(programme)s", programme=side.programme.name),
        description=t.gettext(
            "Next mentoring conversation with %(name)s.", name=side.partner_member.name
        ),
        attendees=[(side.partner_member.name, side.partner_member.email or "")],
    )
    disposition = {"Content-Disposition": "attachment; filename=next-meeting.ics"}
    return Response(body, mimetype="text/calendar", headers=disposition)


@bp.route("/matches/<int:match_id>/surveys/<survey>", methods=["GET", "POST"])
@auth.login_required
def survey(match_id: int, survey: str) -> ResponseReturnValue:
    """Answer a pulse survey or the end evaluation."""
    if request.method == "GET":
        if survey not in checkins.SURVEY_QUESTIONS:
            raise checkins.NotFound(f"there is no {survey!r} survey")
        return render_template(
            "checkins/survey.html", survey=survey, match_id=match_id,
            title=_(checkins.SURVEY_TITLES[survey]), asked=checkins.SURVEY_QUESTIONS[survey],
            csrf_token=auth.csrf_token(),
        )  # fmt: skip
    return _answer(match_id=match_id, survey=survey)


@_form_action
def _answer(match_id: int, survey: str) -> ResponseReturnValue:
    me = _me()
    answer = checkins.SurveyAnswer(
        satisfaction=_int("satisfaction"),
        usefulness=_int("usefulness"),
        confidence=_int("confidence"),
        goal_progress=_int("goal_progress"),
        comment=request.form.get("comment", ""),
    )
    checkins.answer_survey(
        records.get_session(), me.tenant_id, me.member_id, survey, answer,
        match_id=match_id, poster=_poster(),
    )  # fmt: skip
    return _back(match_id, _("Thank you: your answers are in."))


@bp.post("/matches/<int:match_id>/flag")
@auth.login_required
@_form_action
def flag(match_id: int) -> ResponseReturnValue:
    me = _me()
    checkins.flag_pair(
        records.get_session(), me.tenant_id, match_id, me.member_id, request.form.get("reason", "")
    )
    return _back(match_id, _("The coordinator has been told, privately. They will be in touch."))


@bp.post("/matches/<int:match_id>/close")
@auth.login_required
@_form_action
def close(match_id: int) -> ResponseReturnValue:
    me = _me()
    checkins.close_pair(
        records.get_session(), me.tenant_id, match_id, me.member_id,
        request.form.get("outcome", ""), request.form.get("reason", ""), poster=_poster(),
    )  # fmt: skip
    return _back(match_id, _("The pair is closed. Please answer the end evaluation."))


@bp.get("/matches/<int:match_id>/learning")
@auth.login_required
def mentee_learning(match_id: int) -> ResponseReturnValue:
    """A mentee's learning history, for their mentor, with the mentee's consent."""
    me = _me()
    history = learning_history(records.get_session(), me.tenant_id, me.member_id, match_id)
    return render_template("checkins/learning.html", history=history)


@bp.get("/certificate")
@auth.login_required
def certificate() -> ResponseReturnValue:
    """A printable record of the member's mentoring hours, for CPD."""
    me = _me()
    record = checkins.mentoring_record(records.get_session(), me.tenant_id, me.member_id)
    return render_template("checkins/certificate.html", record=record, today=date.today())
