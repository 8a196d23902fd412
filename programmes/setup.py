"""Setting a programme up: from a template, by hand, or copied for the next cohort."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from records import Match, Programme, record_event
from records.programmes import MATCHING_MODES, PROGRAMME_KINDS

from .access import Actor, coordinated_programme, open_to, require_coordinator
from .errors import ConflictError, InvalidInputError, NotFoundError
from .questionnaire import check_definition
from .templates import TEMPLATES, template

MAX_CAPACITY = 50
QUESTIONNAIRE_LOCKED = (
    "Matching has run for this programme, so its questionnaire can no longer change: "
    "the answers members gave and the pairs made from them would no longer fit."
)


@dataclass(frozen=True)
class ProgrammeInput:
    """What a coordinator fills in. Dates default from the template's duration."""

    name: str
    purpose: str = ""
    objectives: tuple[str, ...] = ()
    kind: str = "one_to_one"
    matching_mode: str = "assigned"
    starts_on: date | None = None
    ends_on: date | None = None
    cadence_days: int = 28
    default_capacity: int = 1
    questionnaire: Mapping[str, Any] | None = None
    settings: Mapping[str, Any] | None = None


def check_input(data: ProgrammeInput) -> None:
    """Validate a programme's fields.

    Raises:
        InvalidInputError: with one problem per field.
    """
    problems: dict[str, str] = {}
    if not data.name.strip():
        problems["name"] = "Give the programme a name."
    elif len(data.name) > 200:
        problems["name"] = "Keep the name under 200 characters."
    if data.kind not in PROGRAMME_KINDS:
        problems["kind"] = f"Choose one of: {', '.join(PROGRAMME_KINDS)}."
    if data.matching_mode not in MATCHING_MODES:
        problems["matching_mode"] = f"Choose one of: {', '.join(MATCHING_MODES)}."
    if data.kind == "peer" and data.matching_mode != "assigned":
        problems["matching_mode"] = "Peer programmes are matched by the coordinator."
    if not 1 <= data.cadence_days <= 365:
        problems["cadence_days"] = "Check-ins every 1 to 365 days."
    if not 1 <= data.default_capacity <= MAX_CAPACITY:
        problems["default_capacity"] = f"Mentor capacity must be 1 to {MAX_CAPACITY}."
    if data.starts_on and data.ends_on and data.ends_on <= data.starts_on:
        problems["ends_on"] = "The programme must end after it starts."
    if problems:
        raise InvalidInputError("The programme needs a few changes.", problems)


def create_programme(
    session: Session,
    actor: Actor,
    data: ProgrammeInput,
    *,
    course_id: int | None = None,
    lti_context_id: str | None = None,
) -> Programme:
    """Create a programme in the actor's tenant (a coordinator's action).

    ``lti_context_id`` names the LMS course a deep-linking placement puts it in.
    """
    require_coordinator(actor)
    check_input(data)
    questionnaire = check_definition(data.questionnaire or template("one_to_one")["questionnaire"])
    starts_on = data.starts_on or date.today() + timedelta(days=14)
    programme = Programme(
        tenant_id=actor.tenant_id,
        name=data.name.strip(),
        purpose=data.purpose.strip(),
        objectives=[o.strip() for o in data.objectives if o.strip()],
        kind=data.kind,
        matching_mode=data.matching_mode,
        status="enrolling",
        questionnaire=questionnaire,
        starts_on=starts_on,
        ends_on=data.ends_on or starts_on + timedelta(days=182),
        cadence_days=data.cadence_days,
        default_capacity=data.default_capacity,
        course_id=course_id if course_id is not None else actor.course_id,
        lti_context_id=lti_context_id,
        settings=dict(data.settings or {}),
    )
    session.add(programme)
    session.flush()
    record_event(
        session,
        actor.tenant_id,
        "programme.create",
        actor_member_id=actor.member_id,
        subject=programme,
    )
    return programme


def create_from_template(
    session: Session,
    actor: Actor,
    template_name: str,
    *,
    name: str | None = None,
    starts_on: date | None = None,
    course_id: int | None = None,
    lti_context_id: str | None = None,
) -> Programme:
    """Create a programme from one of :data:`TEMPLATES`."""
    if template_name not in TEMPLATES:
        raise InvalidInputError(
            f"No template {template_name!r}; choose one of {', '.join(TEMPLATES)}.",
            {"template": "Unknown template."},
        )
    t = template(template_name)
    start = starts_on or date.today() + timedelta(days=14)
    data = ProgrammeInput(
        name=name or t["name"],
        purpose=t["purpose"],
        objectives=tuple(t["objectives"]),
        kind=t["kind"],
        matching_mode=t["matching_mode"],
        starts_on=start,
        ends_on=start + timedelta(days=t["duration_days"]),
        cadence_days=t["cadence_days"],
        default_capacity=t["default_capacity"],
        questionnaire=t["questionnaire"],
        settings=t["settings"],
    )
    return create_programme(
        session, actor, data, course_id=course_id, lti_context_id=lti_context_id
    )


def update_programme(
    session: Session, actor: Actor, programme_id: int, data: ProgrammeInput
) -> Programme:
    """Change a programme's set-up. The questionnaire is fixed once matching has run."""
    programme = coordinated_programme(session, actor, programme_id)
    check_input(data)
    if data.questionnaire is not None:
        if data.questionnaire != programme.questionnaire:
            require_questionnaire_open(session, programme)
        programme.questionnaire = check_definition(data.questionnaire)
    programme.name = data.name.strip()
    programme.purpose = data.purpose.strip()
    programme.objectives = [o.strip() for o in data.objectives if o.strip()]
    programme.kind, programme.matching_mode = data.kind, data.matching_mode
    programme.starts_on, programme.ends_on = data.starts_on, data.ends_on
    programme.cadence_days, programme.default_capacity = data.cadence_days, data.default_capacity
    if data.settings is not None:
        programme.settings = {**programme.settings, **data.settings}
    record_event(
        session,
        actor.tenant_id,
        "programme.update",
        actor_member_id=actor.member_id,
        subject=programme,
    )
    return programme


def questionnaire_lock(session: Session, programme: Programme) -> str | None:
    """Why the programme's questionnaire may no longer change, or None while it may.

    The one rule for every path that changes questions, options, rules or weights: once
    matching has run (a draft was made, the programme moved past enrolment, a mentee
    asked for a mentor, a pair exists), answers and pairs rest on the questions as
    they were.
    """
    if programme.status not in ("draft", "enrolling") or "last_run" in (programme.settings or {}):
        return QUESTIONNAIRE_LOCKED
    any_match = session.scalars(
        select(Match.id)
        .where(Match.tenant_id == programme.tenant_id, Match.programme_id == programme.id)
        .limit(1)
    ).first()
    return None if any_match is None else QUESTIONNAIRE_LOCKED


def require_questionnaire_open(session: Session, programme: Programme) -> None:
    """Raises:
    ConflictError: the questionnaire is locked (see :func:`questionnaire_lock`)."""
    reason = questionnaire_lock(session, programme)
    if reason is not None:
        raise ConflictError(reason)


def copy_programme(
    session: Session, actor: Actor, programme_id: int, *, name: str, starts_on: date
) -> Programme:
    """The next cohort: same set-up and questionnaire, new dates, no participants."""
    source = coordinated_programme(session, actor, programme_id)
    length = (source.ends_on - source.starts_on) if source.starts_on and source.ends_on else None
    programme = create_programme(
        session,
        actor,
        ProgrammeInput(
            name=name,
            purpose=source.purpose,
            objectives=tuple(source.objectives),
            kind=source.kind,
            matching_mode=source.matching_mode,
            starts_on=starts_on,
            ends_on=starts_on + (length or timedelta(days=182)),
            cadence_days=source.cadence_days,
            default_capacity=source.default_capacity,
            questionnaire=source.questionnaire,
            settings=source.settings,
        ),
        course_id=source.course_id,
    )
    programme.copied_from_id = source.id
    return programme


def list_programmes(session: Session, actor: Actor) -> list[Programme]:
    """Programmes the actor can see: a coordinator's course (or all, for institution
    administrators); for members, those :func:`~.access.open_to_member`."""
    query = _programme_list(
        by_course=not actor.institution_admin and actor.course_id is not None,
        as_member=not actor.coordinator,
    )
    params = {"tenant_id": actor.tenant_id, "course_id": actor.course_id,
              "member_id": actor.member_id}  # fmt: skip
    return list(session.scalars(query, params))


@cache
def _programme_list(*, by_course: bool, as_member: bool) -> Select[tuple[Programme]]:
    """The statement of :func:`list_programmes` for one kind of actor, built once (every
    signed-in page's navigation and every home page ask)."""
    tenant_id = bindparam("tenant_id")
    query = select(Programme).where(Programme.tenant_id == tenant_id)
    if by_course:
        query = query.where(
            (Programme.course_id == bindparam("course_id")) | Programme.course_id.is_(None)
        )
    if as_member:
        query = query.where(Programme.status != "draft", open_to(tenant_id, bindparam("member_id")))
    return query.order_by(Programme.starts_on.desc(), Programme.id.desc())


def set_status(session: Session, actor: Actor, programme_id: int, status: str) -> Programme:
    """Open, close or re-open a programme."""
    programme = coordinated_programme(session, actor, programme_id)
    allowed = ("draft", "enrolling", "matching", "running", "closed")
    if status not in allowed:
        raise NotFoundError(f"No status {status!r}.")
    programme.status = status
    record_event(
        session,
        actor.tenant_id,
        "programme.status",
        actor_member_id=actor.member_id,
        subject=programme,
        detail={"status": status},
    )
    return programme
