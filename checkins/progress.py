"""Milestones posted to the LMS gradebook through AGS, when the programme has a line item.

``checkins`` does not import the LTI layer (the arrows point the other way): the web layer
passes a :class:`ProgressPoster`, normally :func:`platforms.post_progress`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records import (
    Agreement,
    CheckIn,
    Match,
    Milestone,
    Participant,
    Programme,
    SurveyResponse,
    utcnow,
)

from .milestones import MILESTONE_TITLES, SIX_MONTHS, award_milestones

log = logging.getLogger(__name__)

# Points per milestone: agreement signed, up to CHECKIN_POINTS check-ins, end evaluation.
CHECKIN_POINTS = 3
MAX_SCORE = 1 + CHECKIN_POINTS + 1


class ProgressPoster(Protocol):
    """Posts one member's progress to a programme's line item (AGS ``/scores``)."""

    def __call__(
        self,
        session: Session,
        tenant_id: int,
        programme_id: int,
        member_id: int,
        score: float,
        max_score: float,
        activity_progress: str = ...,
        grading_progress: str = ...,
        *,
        comment: str | None = ...,
    ) -> Any: ...


def progress_score(session: Session, tenant_id: int, match: Match, participant: Participant) -> int:
    """The member's milestones in this pair, out of :data:`MAX_SCORE`."""
    agreement = session.scalars(
        select(Agreement).where(Agreement.tenant_id == tenant_id, Agreement.match_id == match.id)
    ).first()
    signed = agreement is not None and agreement.mentor_signed_at and agreement.mentee_signed_at
    n_checkins = session.scalar(
        select(func.count(CheckIn.id)).where(
            CheckIn.tenant_id == tenant_id, CheckIn.match_id == match.id
        )
    )
    evaluated = session.scalar(
        select(func.count(SurveyResponse.id)).where(
            SurveyResponse.tenant_id == tenant_id,
            SurveyResponse.match_id == match.id,
            SurveyResponse.participant_id == participant.id,
            SurveyResponse.survey == "end",
        )
    )
    return int(bool(signed)) + min(n_checkins or 0, CHECKIN_POINTS) + int(bool(evaluated))


def post_milestone(
    session: Session,
    tenant_id: int,
    match: Match,
    participants: list[Participant],
    poster: ProgressPoster | None,
    milestone: str,
    reached: Sequence[Milestone] = (),
) -> int:
    """Post each participant's progress after ``milestone``; returns how many were posted.

    ``reached`` are the milestones this step recorded (:func:`award_milestones`): the
    score's comment names them, so the LMS gradebook shows "First check-in" rather than
    a bare number.

    A gradebook that is down or refuses must not undo a member's check-in, so failures
    are logged and skipped: the next milestone posts the full score again.
    """
    if poster is None:
        return 0
    programme = session.get(Programme, match.programme_id)
    if programme is None or not programme.lineitem_url:
        return 0
    posted = 0
    for participant in participants:
        score = progress_score(session, tenant_id, match, participant)
        completed = milestone == "evaluation" and score >= MAX_SCORE - CHECKIN_POINTS + 1
        try:
            poster(
                session,
                tenant_id,
                programme.id,
                participant.member_id,
                float(score),
                float(MAX_SCORE),
                "Completed" if completed else "InProgress",
                "FullyGraded",
                comment="Tandem milestone: "
                + (
                    ", ".join(
                        MILESTONE_TITLES[m.kind]
                        for m in reached
                        if m.member_id == participant.member_id
                    )
                    or milestone
                ),
            )
            posted += 1
        except Exception as exc:  # the poster's own errors are its business; log and go on
            log.warning(
                "could not post progress of participant %s (%s): %s",
                participant.id,
                milestone,
                type(exc).__name__,
            )
    return posted


def post_pair_milestone(
    session: Session,
    tenant_id: int,
    match: Match,
    poster: ProgressPoster | None,
    milestone: str,
    reached: Sequence[Milestone],
) -> int:
    """:func:`post_milestone` for both members of the pair, when the step reached any."""
    if poster is None or not reached:
        return 0
    participants = [
        p
        for p in (
            session.get(Participant, match.mentor_participant_id),
            session.get(Participant, match.mentee_participant_id),
        )
        if p is not None
    ]
    return post_milestone(session, tenant_id, match, participants, poster, milestone, reached)


def award_due_milestones(
    session: Session, now: datetime | None = None, *, poster: ProgressPoster | None = None
) -> int:
    """Record the milestones time brings (six months together) in every tenant, and post
    them to the programme's gradebook column when ``poster`` is given.

    For ``tandem remind`` and the daily job; returns how many were recorded.
    """
    now = now or utcnow()
    pairs = session.scalars(
        select(Match)
        .where(Match.status.in_(("accepted", "active")), Match.started_at <= now - SIX_MONTHS)
        .order_by(Match.id)
    ).all()
    recorded = 0
    for match in pairs:
        reached = award_milestones(session, match.tenant_id, match, now=now)
        post_pair_milestone(session, match.tenant_id, match, poster, "six_months", reached)
        recorded += len(reached)
    return recorded
