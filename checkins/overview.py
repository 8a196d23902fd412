"""What a member's page shows: their pairs, agreements, meetings, surveys, this month's
prompt, and their learning history (a mentor sees a mentee's only with consent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import (
    Agreement,
    CheckIn,
    Course,
    Credential,
    Enrolment,
    LearningRecord,
    Match,
    Member,
    Participant,
    utcnow,
)

from .agreements import _agreement, is_signed, parse_boundaries
from .checkins import list_checkins
from .credentials import member_credentials
from .errors import NotAllowed, NotFound
from .milestones import MilestoneView, member_milestones
from .pairs import RUNNING, PairSide, pair_side
from .settings import prompt_for, settings_of
from .surveys import OpenSurvey, open_surveys

SHOWN = ("accepted", "active", "closed")


@dataclass
class PairView:
    """One of the member's pairs, as their page shows it."""

    side: PairSide
    agreement: Agreement | None
    boundaries: dict[str, str]
    signed: bool
    require_agreement: bool
    checkins: list[CheckIn]
    surveys: list[OpenSurvey]
    prompt: dict[str, Any]
    themes: list[str]
    minutes: int

    @property
    def match(self) -> Match:
        return self.side.match


@dataclass
class LearningHistory:
    """A member's courses with their completion, grade and progress."""

    member_name: str
    courses: list[dict] = field(default_factory=list)


@dataclass
class MemberPage:
    member: Member
    pairs: list[PairView]
    learning: LearningHistory
    # Milestones reached in any pair, newest first (each once per person and pair).
    milestones: list[MilestoneView] = field(default_factory=list)
    # The credentials issued for those milestones, by milestone id.
    credentials: dict[int, Credential] = field(default_factory=dict)


def _learning(session: Session, tenant_id: int, member: Member) -> LearningHistory:
    history = LearningHistory(member.name)
    courses: dict[int, dict] = {}
    for enrolment, course in session.execute(
        select(Enrolment, Course)
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.tenant_id == tenant_id, Enrolment.member_id == member.id)
        .order_by(Course.title)
    ).all():
        courses.setdefault(course.id, {"title": course.title, "role": enrolment.role,
                                       "status": enrolment.status, "completed": None,
                                       "grade": None, "progress": None})  # fmt: skip
    for record in session.scalars(
        select(LearningRecord)
        .where(LearningRecord.tenant_id == tenant_id, LearningRecord.member_id == member.id)
        .order_by(LearningRecord.recorded_at)
    ):
        blank = {"title": "Other learning", "role": "", "status": "",
                 "completed": None, "grade": None, "progress": None}  # fmt: skip
        row = courses.setdefault(record.course_id or 0, blank)
        if record.completed is not None:
            row["completed"] = record.completed
        if record.grade or record.score is not None:
            row["grade"] = record.grade or f"{record.score:g}"
        if record.progress is not None:
            row["progress"] = record.progress
    history.courses = list(courses.values())
    return history


def member_page(
    session: Session, tenant_id: int, member_id: int, today: date | None = None
) -> MemberPage:
    """The member's pairs (newest first) and their own learning history.

    Raises:
        NotFound: the member is not one of this tenant's.
    """
    today = today or utcnow().date()
    member = session.scalars(
        select(Member).where(Member.id == member_id, Member.tenant_id == tenant_id)
    ).first()
    if member is None:
        raise NotFound(f"member {member_id} does not exist")
    match_ids = session.scalars(
        select(Match.id)
        .join(
            Participant,
            (Participant.id == Match.mentor_participant_id)
            | (Participant.id == Match.mentee_participant_id),
        )
        .where(
            Match.tenant_id == tenant_id,
            Participant.member_id == member_id,
            Match.status.in_(SHOWN),
        )
        .order_by(Match.id.desc())
    ).all()
    pairs = []
    for match_id in match_ids:
        side = pair_side(session, tenant_id, match_id, member_id)
        agreement = _agreement(session, tenant_id, match_id)
        checkins = list_checkins(session, tenant_id, match_id, member_id)
        settings = settings_of(side.programme)
        pairs.append(
            PairView(
                side=side,
                agreement=agreement,
                boundaries=parse_boundaries(agreement) if agreement else {},
                signed=is_signed(agreement),
                require_agreement=settings.require_agreement,
                checkins=checkins,
                surveys=open_surveys(session, tenant_id, member_id, match_id, today),
                prompt=prompt_for(side.programme, today),
                themes=settings.theme_names,
                minutes=sum(c.duration_minutes for c in checkins),
            )
        )
    return MemberPage(
        member,
        pairs,
        _learning(session, tenant_id, member),
        member_milestones(session, tenant_id, member_id),
        member_credentials(session, tenant_id, member_id),
    )


def learning_history(
    session: Session, tenant_id: int, viewer_member_id: int, match_id: int
) -> LearningHistory:
    """The mentee's learning history for their mentor, if the mentee consented.

    Raises:
        NotAllowed: the viewer is the mentee (their own is on their page), or the mentee
            has not consented in the agreement.
        NotFound: not this tenant's match.
    """
    side = pair_side(session, tenant_id, match_id, viewer_member_id)
    if side.role != "mentor":
        raise NotAllowed("your own learning history is on your Tandem page")
    if side.match.status not in RUNNING:
        # Consent and access end with the pair (closed, re-matched), whatever the
        # agreement row still says.
        raise NotAllowed(
            f"your pair with {side.partner_member.name} has ended, and with it their consent"
        )
    agreement = _agreement(session, tenant_id, match_id)
    if agreement is None or not agreement.share_learning_history:
        raise NotAllowed(
            f"{side.partner_member.name} has not chosen to share their learning history"
        )
    return _learning(session, tenant_id, side.partner_member)


__all__ = ["LearningHistory", "MemberPage", "PairView", "learning_history", "member_page"]
