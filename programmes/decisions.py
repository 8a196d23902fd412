"""Each side's answer to a proposed match, and the mentor slots those answers take or free."""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from records import Match, Participant, record_event, utcnow

from .access import Actor, get_match
from .errors import ConflictError, PermissionDeniedError
from .notices import tell

# A match in one of these holds one of the mentor's slots.
SLOT_HOLDING = ("proposed", "accepted", "active")


def take_slot(session: Session, mentor: Participant) -> None:
    """Take one of a mentor's slots, or fail if none is left.

    One conditional UPDATE does it, so two requests racing for the last slot cannot
    both win: the database serialises the row and re-checks the condition (and a CHECK
    constraint refuses ``slots_taken > capacity`` whatever happens).

    Raises:
        ConflictError: the mentor has no free slot.
    """
    if mentor.role == "peer":
        return
    result = session.execute(
        update(Participant)
        .where(
            Participant.id == mentor.id,
            Participant.tenant_id == mentor.tenant_id,
            Participant.slots_taken < func.coalesce(Participant.capacity, 1),
        )
        .values(slots_taken=Participant.slots_taken + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ConflictError("That mentor has no free place left: it was just taken.")
    session.expire(mentor, ["slots_taken"])


def free_slot(session: Session, mentor: Participant) -> None:
    """Give a slot back (a decline, a withdrawal, an ended pair)."""
    if mentor.role == "peer":
        return
    session.execute(
        update(Participant)
        .where(
            Participant.id == mentor.id,
            Participant.tenant_id == mentor.tenant_id,
            Participant.slots_taken > 0,
        )
        .values(slots_taken=Participant.slots_taken - 1)
        .execution_options(synchronize_session=False)
    )
    session.expire(mentor, ["slots_taken"])


def _sides(session: Session, match: Match) -> tuple[Participant, Participant]:
    mentor = session.get(Participant, match.mentor_participant_id)
    mentee = session.get(Participant, match.mentee_participant_id)
    assert mentor is not None and mentee is not None  # the foreign keys guarantee it
    return mentor, mentee


def respond(
    session: Session, actor: Actor, match_id: int, *, accept: bool, reason: str = ""
) -> Match:
    """The acting member accepts or declines a proposed match.

    A decline frees the mentor's slot and returns the mentee to the pool; when both sides
    have accepted, the match is ``accepted``. Either outcome is mailed to both sides (a
    job queued in this transaction, :mod:`.notices`).

    Raises:
        PermissionDeniedError: the member is not one side of the match.
        ConflictError: the match is not waiting for their answer.
    """
    match = get_match(session, actor, match_id)
    mentor, mentee = _sides(session, match)
    if actor.member_id == mentor.member_id:
        side = "mentor"
    elif actor.member_id == mentee.member_id:
        side = "mentee"
    else:
        raise PermissionDeniedError("This match is not yours to answer.")
    if match.status != "proposed" or getattr(match, f"{side}_response") != "pending":
        raise ConflictError("This match is no longer waiting for your answer.")
    now = utcnow()
    if accept:
        setattr(match, f"{side}_response", "accepted")
        if match.mentor_response == match.mentee_response == "accepted":
            match.status, match.accepted_at = "accepted", now
            mentor.status = mentee.status = "matched"
    else:
        setattr(match, f"{side}_response", "declined")
        match.status, match.ended_at = "declined", now
        match.end_reason = reason.strip()[:500] or f"declined by the {side}"
        free_slot(session, mentor)
        mentee.status = "enrolled"
    record_event(
        session,
        actor.tenant_id,
        "match.accept" if accept else "match.decline",
        actor_member_id=actor.member_id,
        subject=match,
        detail={"side": side, "status": match.status},
    )
    if match.status in ("accepted", "declined"):
        tell(session, actor.tenant_id, f"match_{match.status}", [match.id])
    return match


def release_open_matches(session: Session, participant: Participant, *, reason: str) -> int:
    """Drop a participant's drafts and decline their open proposals; returns how many."""
    side = or_(
        Match.mentor_participant_id == participant.id,
        Match.mentee_participant_id == participant.id,
    )
    base = (Match.tenant_id == participant.tenant_id, side)
    dropped = session.execute(
        delete(Match)
        .where(*base, Match.status == "draft")
        .execution_options(synchronize_session="fetch")
    ).rowcount
    open_matches = session.scalars(select(Match).where(*base, Match.status == "proposed")).all()
    for match in open_matches:
        mentor, mentee = _sides(session, match)
        match.status, match.ended_at, match.end_reason = "declined", utcnow(), reason
        free_slot(session, mentor)
        if mentee.id != participant.id:
            mentee.status = "enrolled"
    return dropped + len(open_matches)
