"""Milestones: what a member reached in a pair, each recorded once per person and pair.

Agreement signed, first check-in, three check-ins, six months together, programme
completed, and 10, 25 and 50 mentoring hours. :func:`award_milestones` reads the pair's
running figures (kept on the ``Match`` row) and records what is new; the services that
sign agreements, log check-ins and close pairs call it in their transaction, and
``tandem remind`` calls :func:`checkins.progress.award_due_milestones` for the ones that
time brings (and posts them to the gradebook).
The unique key ``(tenant, match, member, kind)`` keeps each one single, whatever races.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records import Agreement, Match, Milestone, Participant, Programme, utcnow
from records.recognition import MILESTONE_KINDS
from translations import N_

MILESTONE_TITLES = {
    "agreement_signed": N_("Agreement signed"),
    "first_checkin": N_("First check-in"),
    "three_checkins": N_("Three check-ins"),
    "six_months": N_("Six months of mentoring"),
    "programme_completed": N_("Programme completed"),
    "hours_10": N_("10 mentoring hours"),
    "hours_25": N_("25 mentoring hours"),
    "hours_50": N_("50 mentoring hours"),
}
HOURS = {"hours_10": 10, "hours_25": 25, "hours_50": 50}
SIX_MONTHS = timedelta(days=182)
# A pair that has started: these are the statuses after both accepted.
STARTED = ("accepted", "active", "closed", "rematched")


def reached(match: Match, signed: bool, now: datetime) -> list[str]:
    """The milestones the pair's figures show, in :data:`MILESTONE_KINDS` order."""
    kinds = []
    if signed:
        kinds.append("agreement_signed")
    if match.checkin_count >= 1:
        kinds.append("first_checkin")
    if match.checkin_count >= 3:
        kinds.append("three_checkins")
    if match.started_at is not None and match.status in STARTED:
        until = match.ended_at if match.ended_at is not None else now
        if until - match.started_at >= SIX_MONTHS:
            kinds.append("six_months")
    if match.status == "closed" and match.end_reason == "completed":
        kinds.append("programme_completed")
    for kind, hours in HOURS.items():
        if match.checkin_minutes >= hours * 60:
            kinds.append(kind)
    return kinds


def award_milestones(
    session: Session, tenant_id: int, match: Match, *, now: datetime | None = None
) -> list[Milestone]:
    """Record the milestones both members of the pair reached and do not have yet.

    Returns the new rows (none when nothing is new). Never commits.
    """
    now = now or utcnow()
    agreement = session.scalars(
        select(Agreement).where(Agreement.tenant_id == tenant_id, Agreement.match_id == match.id)
    ).first()
    signed = bool(agreement and agreement.mentor_signed_at and agreement.mentee_signed_at)
    kinds = reached(match, signed, now)
    if not kinds:
        return []
    members = session.scalars(
        select(Participant.member_id).where(
            Participant.tenant_id == tenant_id,
            Participant.id.in_((match.mentor_participant_id, match.mentee_participant_id)),
        )
    ).all()
    have = set(
        session.execute(
            select(Milestone.member_id, Milestone.kind).where(
                Milestone.tenant_id == tenant_id, Milestone.match_id == match.id
            )
        ).all()
    )
    new = []
    for member_id in members:
        for kind in kinds:
            if (member_id, kind) in have:
                continue
            row = Milestone(
                tenant_id=tenant_id,
                programme_id=match.programme_id,
                match_id=match.id,
                member_id=member_id,
                kind=kind,
                reached_at=now,
            )
            try:
                # Another request may record the same one at the same moment: the
                # unique key refuses the second, which is then simply not news.
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                continue
            new.append(row)
    # No audit row: a milestone is a fact the pair's figures show, not someone's action,
    # and the row itself says when.
    return new


@dataclass(frozen=True)
class MilestoneView:
    """One milestone on the member's page."""

    id: int
    kind: str
    title: str
    match_id: int
    programme: str
    reached_at: datetime


def member_milestones(session: Session, tenant_id: int, member_id: int) -> list[MilestoneView]:
    """The member's milestones, newest first, with their programme's name."""
    rows = session.execute(
        select(Milestone, Programme.name)
        .join(
            Programme,
            (Programme.id == Milestone.programme_id) & (Programme.tenant_id == tenant_id),
        )
        .where(Milestone.tenant_id == tenant_id, Milestone.member_id == member_id)
        .order_by(Milestone.reached_at.desc(), Milestone.id.desc())
    ).all()
    return [
        MilestoneView(m.id, m.kind, MILESTONE_TITLES[m.kind], m.match_id, name, m.reached_at)
        for m, name in rows
    ]


def milestone_counts(session: Session, tenant_id: int, programme_id: int) -> dict[str, int]:
    """Pairs of the programme that reached each milestone (a pair counts once)."""
    rows = session.execute(
        select(Milestone.kind, func.count(func.distinct(Milestone.match_id)))
        .where(Milestone.tenant_id == tenant_id, Milestone.programme_id == programme_id)
        .group_by(Milestone.kind)
    ).all()
    counts = dict.fromkeys(MILESTONE_KINDS, 0)
    counts.update({kind: n for kind, n in rows})
    return counts
