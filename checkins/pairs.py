"""Finding a match within a tenant and which side of it a member is on."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Match, Member, Participant, Programme

from .errors import NotAllowed, NotFound, NotInProgramme, PairNotRunning

RUNNING = ("accepted", "active")


@dataclass(frozen=True)
class PairSide:
    """A match seen from one member: their participant row and the other side's."""

    match: Match
    programme: Programme
    me: Participant
    partner: Participant
    partner_member: Member

    @property
    def role(self) -> str:
        """``mentor`` or ``mentee`` (peers are recorded in the mentor/mentee slots)."""
        return "mentor" if self.me.id == self.match.mentor_participant_id else "mentee"


def get_match(
    session: Session, tenant_id: int, match_id: int, *, programme_id: int | None = None
) -> Match:
    """The tenant's match ``match_id``; with ``programme_id``, only if it is that
    programme's (a coordinator's request names the programme they may act on).

    Raises:
        NotFound: no such match in this tenant (another tenant's match is not found either).
        NotInProgramme: the match belongs to another programme than ``programme_id``.
    """
    match = session.scalars(
        select(Match).where(Match.id == match_id, Match.tenant_id == tenant_id)
    ).first()
    if match is None:
        raise NotFound(f"match {match_id} does not exist")
    if programme_id is not None and match.programme_id != programme_id:
        raise NotInProgramme(f"match {match_id} is not one of programme {programme_id}'s")
    return match


def get_programme(session: Session, tenant_id: int, programme_id: int) -> Programme:
    """The tenant's programme ``programme_id``.

    Raises:
        NotFound: no such programme in this tenant.
    """
    programme = session.scalars(
        select(Programme).where(Programme.id == programme_id, Programme.tenant_id == tenant_id)
    ).first()
    if programme is None:
        raise NotFound(f"programme {programme_id} does not exist")
    return programme


def pair_side(session: Session, tenant_id: int, match_id: int, member_id: int) -> PairSide:
    """The match as seen by ``member_id``, who must be one of the pair.

    Raises:
        NotFound: no such match in this tenant.
        NotAllowed: the member is not one of the pair.
    """
    match = get_match(session, tenant_id, match_id)
    rows = session.scalars(
        select(Participant).where(
            Participant.tenant_id == tenant_id,
            Participant.id.in_([match.mentor_participant_id, match.mentee_participant_id]),
        )
    ).all()
    by_id = {p.id: p for p in rows}
    mentor, mentee = by_id[match.mentor_participant_id], by_id[match.mentee_participant_id]
    if mentor.member_id == member_id:
        me, partner = mentor, mentee
    elif mentee.member_id == member_id:
        me, partner = mentee, mentor
    else:
        raise NotAllowed("only the two members of this pair can see or change it")
    programme = get_programme(session, tenant_id, match.programme_id)
    partner_member = session.get(Member, partner.member_id)
    assert partner_member is not None  # the composite foreign key guarantees it
    return PairSide(match, programme, me, partner, partner_member)


def require_running(match: Match) -> None:
    """Refuse a change to a pair that is not accepted or active.

    Raises:
        PairNotRunning: the match is proposed, declined, closed or re-matched.
    """
    if match.status not in RUNNING:
        raise PairNotRunning(
            f"match {match.id} is {match.status}: only an accepted or active pair can do this"
        )
