"""Members join a programme: as mentor, mentee or peer, with their answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records import Match, Participant, record_event, utcnow

from .access import Actor, get_programme, own_participant
from .errors import ConflictError, InvalidInputError, PermissionDeniedError
from .notices import tell
from .questionnaire import check_answers
from .setup import MAX_CAPACITY

OPEN_FOR_ANSWERS = ("draft", "enrolling")


def roles_for(kind: str) -> tuple[str, ...]:
    """The roles a member can take in a programme of this kind."""
    return ("peer",) if kind == "peer" else ("mentee", "mentor")


def _check_capacity(capacity: Any) -> int:
    try:
        value = int(capacity)
    except (TypeError, ValueError):
        raise InvalidInputError(
            "Capacity must be a whole number.", {"capacity": "Give a whole number."}
        ) from None
    if not 1 <= value <= MAX_CAPACITY:
        raise InvalidInputError(
            f"Capacity must be between 1 and {MAX_CAPACITY}.",
            {"capacity": f"Mentor at least 1 and at most {MAX_CAPACITY} people."},
        )
    return value


def enrol(
    session: Session,
    actor: Actor,
    programme_id: int,
    role: str,
    answers: Mapping[str, Any],
    *,
    capacity: Any = None,
) -> Participant:
    """Enrol the acting member.

    Raises:
        ConflictError: already enrolled, or enrolment is closed.
        InvalidInputError: a bad role, capacity or answers (each named).
    """
    if actor.member_id is None:
        raise PermissionDeniedError("Sign in as a member to enrol.")
    programme = get_programme(session, actor, programme_id)
    if programme.status not in OPEN_FOR_ANSWERS:
        raise ConflictError("Enrolment for this programme is closed.")
    if role not in roles_for(programme.kind):
        raise InvalidInputError(
            f"In this programme you can join as {' or '.join(roles_for(programme.kind))}.",
            {"role": "Not a role of this programme."},
        )
    existing = own_participant(session, actor, programme_id)
    if existing is not None and existing.status != "withdrawn":
        raise ConflictError("You are already enrolled in this programme.")
    clean = check_answers(programme.questionnaire, role, answers)
    slots = None
    if role == "mentor":
        slots = _check_capacity(
            capacity if capacity not in (None, "") else programme.default_capacity
        )
    if existing is not None:
        # Re-joining after withdrawing: the same row, fresh answers.
        participant = existing
        participant.role, participant.answers, participant.capacity = role, clean, slots
        participant.status, participant.withdrawn_at = "enrolled", None
        participant.enrolled_at = utcnow()
    else:
        participant = Participant(
            tenant_id=actor.tenant_id,
            programme_id=programme.id,
            member_id=actor.member_id,
            role=role,
            answers=clean,
            capacity=slots,
        )
        session.add(participant)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Two tabs enrolling at once: the unique (programme, member) key decides.
        raise ConflictError("You are already enrolled in this programme.") from None
    record_event(
        session,
        actor.tenant_id,
        "participant.enrol",
        actor_member_id=actor.member_id,
        subject=participant,
        detail={"programme_id": programme.id, "role": role},
    )
    return participant


def update_answers(
    session: Session,
    actor: Actor,
    programme_id: int,
    answers: Mapping[str, Any],
    *,
    capacity: Any = None,
) -> Participant:
    """Change one's answers (and a mentor's capacity) until matching starts."""
    programme = get_programme(session, actor, programme_id)
    participant = own_participant(session, actor, programme_id)
    if participant is None or participant.status == "withdrawn":
        raise ConflictError("You are not enrolled in this programme.")
    if programme.status not in OPEN_FOR_ANSWERS:
        raise ConflictError("Answers are fixed now that matching has started.")
    participant.answers = check_answers(programme.questionnaire, participant.role, answers)
    if participant.role == "mentor" and capacity not in (None, ""):
        new_capacity = _check_capacity(capacity)
        if new_capacity < participant.slots_taken:
            raise ConflictError(
                f"You already mentor {participant.slots_taken}; capacity cannot go below that."
            )
        participant.capacity = new_capacity
    record_event(
        session,
        actor.tenant_id,
        "participant.update_answers",
        actor_member_id=actor.member_id,
        subject=participant,
    )
    return participant


def withdraw(session: Session, actor: Actor, programme_id: int) -> Participant:
    """Leave a programme. Open proposals involving the member are declined; a mentee's
    mentors (proposed, accepted or running pairs) are mailed (a job, :mod:`.notices`)."""
    from .decisions import SLOT_HOLDING, release_open_matches

    programme = get_programme(session, actor, programme_id)
    participant = own_participant(session, actor, programme_id)
    if participant is None or participant.status == "withdrawn":
        raise ConflictError("You are not enrolled in this programme.")
    told: list[int] = []
    if participant.role == "mentee":
        told = list(
            session.scalars(
                select(Match.id).where(
                    Match.tenant_id == programme.tenant_id,
                    Match.mentee_participant_id == participant.id,
                    Match.status.in_(SLOT_HOLDING),
                )
            )
        )
    release_open_matches(session, participant, reason="withdrew from the programme")
    participant.status, participant.withdrawn_at = "withdrawn", utcnow()
    record_event(
        session,
        actor.tenant_id,
        "participant.withdraw",
        actor_member_id=actor.member_id,
        subject=participant,
    )
    tell(session, actor.tenant_id, "mentee_withdrew", told)
    return participant
