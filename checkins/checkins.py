"""Meetings a pair logs, the next one they schedule, and mentors' hours for CPD."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records import Alert, CheckIn, Match, Member, Participant, Programme, utcnow

from . import audit
from .agreements import _agreement, is_signed
from .errors import AgreementRequired, InvalidInput
from .milestones import award_milestones
from .pairs import pair_side, require_running
from .pairstats import count_checkin, count_checkin_day
from .progress import ProgressPoster, post_milestone
from .settings import settings_of

FORMATS = ("video", "in_person", "phone", "chat", "other")
MAX_DURATION_MINUTES = 24 * 60
MAX_TEXT = 5000


@dataclass(frozen=True)
class CheckinDraft:
    """A meeting as the member describes it."""

    met_on: date
    duration_minutes: int
    format: str = "video"
    topics: list[str] = field(default_factory=list)
    summary: str = ""
    private_notes: str = ""
    next_meeting_at: datetime | None = None


def member_today(member: Member | None, now: datetime | None = None) -> date:
    """Today in the member's time zone (UTC when unknown): "the future" is theirs."""
    now = now or utcnow()
    try:
        zone = ZoneInfo(member.time_zone) if member and member.time_zone else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    return now.astimezone(zone).date() if zone else now.date()


def _validate(draft: CheckinDraft, programme: Programme, today: date, now: datetime) -> None:
    if draft.met_on > today:
        raise InvalidInput(
            f"the meeting date {draft.met_on.isoformat()} is in the future; log a meeting "
            "once it has happened (and schedule future ones as the next meeting)"
        )
    if programme.starts_on and draft.met_on < programme.starts_on - timedelta(days=31):
        raise InvalidInput(
            f"the meeting date {draft.met_on.isoformat()} is long before the programme began"
        )
    if not isinstance(draft.duration_minutes, int) or not (
        0 < draft.duration_minutes <= MAX_DURATION_MINUTES
    ):
        raise InvalidInput(
            f"duration {draft.duration_minutes!r} minutes: need between 1 minute and 24 hours "
            f"({MAX_DURATION_MINUTES} minutes)"
        )
    if draft.format not in FORMATS:
        raise InvalidInput(f"format {draft.format!r}; need one of {', '.join(FORMATS)}")
    themes = settings_of(programme).theme_names
    unknown = [t for t in draft.topics if t not in themes]
    if unknown:
        raise InvalidInput(f"topics {unknown} are not among this programme's themes {themes}")
    for name in ("summary", "private_notes"):
        if len(getattr(draft, name)) > MAX_TEXT:
            raise InvalidInput(f"{name.replace('_', ' ')} is over {MAX_TEXT} characters")
    if draft.next_meeting_at is not None:
        if draft.next_meeting_at.tzinfo is None:
            raise InvalidInput("the next meeting needs a time zone")
        if draft.next_meeting_at <= now:
            raise InvalidInput("the next meeting must be in the future")


def log_checkin(
    session: Session,
    tenant_id: int,
    match_id: int,
    member_id: int,
    draft: CheckinDraft,
    *,
    now: datetime | None = None,
    poster: ProgressPoster | None = None,
) -> CheckIn:
    """Record a meeting of the member's pair.

    The first check-in makes an accepted pair active; a check-in resolves the pair's
    open quiet-pair alert and moves the pair's running figures (count, minutes, last
    meeting) in the same transaction.

    Raises:
        InvalidInput: a date in the future, a duration of 0 or over 24 hours, an unknown
            format or topic, overlong text, a next meeting in the past.
        AgreementRequired: the programme asks for a signed agreement first.
        PairNotRunning, NotFound, NotAllowed: not the member's running pair.
    """
    side = pair_side(session, tenant_id, match_id, member_id)
    require_running(side.match)
    now = now or utcnow()
    me = session.get(Member, member_id)
    _validate(draft, side.programme, member_today(me, now), now)
    if settings_of(side.programme).require_agreement and not is_signed(
        _agreement(session, tenant_id, match_id)
    ):
        raise AgreementRequired(
            "this programme asks you both to sign your agreement before logging meetings"
        )
    checkin = CheckIn(
        tenant_id=tenant_id,
        match_id=match_id,
        logged_by_participant_id=side.me.id,
        met_on=draft.met_on,
        duration_minutes=draft.duration_minutes,
        format=draft.format,
        topics=list(draft.topics),
        summary=draft.summary.strip(),
        private_notes=draft.private_notes.strip(),
        next_meeting_at=draft.next_meeting_at,
    )
    session.add(checkin)
    match = side.match
    if match.status == "accepted":
        match.status = "active"
        match.started_at = match.started_at or now
    count_checkin(match, draft.met_on, draft.duration_minutes)
    session.flush()
    count_checkin_day(session, tenant_id, match.programme_id, draft.met_on)
    audit.record(
        session, tenant_id, "checkin.logged",
        actor_member_id=member_id, subject_type="CheckIn", subject_id=checkin.id,
        detail={"match_id": match_id, "met_on": draft.met_on.isoformat(),
                "duration_minutes": draft.duration_minutes,
                "next_meeting": draft.next_meeting_at is not None},
    )  # fmt: skip
    for alert in session.scalars(
        select(Alert).where(
            Alert.tenant_id == tenant_id,
            Alert.match_id == match_id,
            Alert.kind == "quiet_pair",
            Alert.status == "open",
        )
    ):
        alert.status = "resolved"
        alert.resolved_at = now
        audit.record(
            session, tenant_id, "alert.resolved",
            actor_member_id=member_id, subject_type="Alert", subject_id=alert.id,
            detail={"kind": alert.kind, "by": "checkin"},
        )  # fmt: skip
    reached = award_milestones(session, tenant_id, match, now=now)
    post_milestone(session, tenant_id, match, [side.me, side.partner], poster, "checkin", reached)
    session.flush()
    return checkin


def list_checkins(session: Session, tenant_id: int, match_id: int, member_id: int) -> list[CheckIn]:
    """The pair's meetings, newest first, private notes included: for the pair only.

    Raises:
        NotFound, NotAllowed: the member is not one of the pair (coordinators included).
    """
    pair_side(session, tenant_id, match_id, member_id)
    return list(
        session.scalars(
            select(CheckIn)
            .where(CheckIn.tenant_id == tenant_id, CheckIn.match_id == match_id)
            .order_by(CheckIn.met_on.desc(), CheckIn.id.desc())
        )
    )


def get_checkin(
    session: Session, tenant_id: int, match_id: int, checkin_id: int, member_id: int
) -> CheckIn:
    """One of the pair's meetings (for its calendar invite).

    Raises:
        NotFound: no such check-in in this pair.
    """
    from .errors import NotFound

    for checkin in list_checkins(session, tenant_id, match_id, member_id):
        if checkin.id == checkin_id:
            return checkin
    raise NotFound(f"check-in {checkin_id} is not one of this pair's")


@dataclass(frozen=True)
class MentoringRecord:
    """A mentor's hours for CPD: per programme and mentee, and in total."""

    member_name: str
    rows: list[dict]
    total_minutes: int
    n_meetings: int

    @property
    def total_hours(self) -> float:
        return round(self.total_minutes / 60, 1)


def mentoring_record(session: Session, tenant_id: int, member_id: int) -> MentoringRecord:
    """The member's mentoring hours as a mentor, for a printable certificate.

    Only meetings of pairs where the member is the mentor count; notes never appear.
    """
    member = session.scalars(
        select(Member).where(Member.id == member_id, Member.tenant_id == tenant_id)
    ).first()
    from .errors import NotFound

    if member is None:
        raise NotFound(f"member {member_id} does not exist")
    mentee = Participant.__table__.alias("mentee")
    rows = session.execute(
        select(
            Programme.name,
            Match.id,
            Match.status,
            func.count(CheckIn.id),
            func.coalesce(func.sum(CheckIn.duration_minutes), 0),
            func.min(CheckIn.met_on),
            func.max(CheckIn.met_on),
        )
        .join(Participant, Participant.id == Match.mentor_participant_id)
        .join(Programme, Programme.id == Match.programme_id)
        .join(CheckIn, CheckIn.match_id == Match.id)
        .join(mentee, mentee.c.id == Match.mentee_participant_id)
        .where(Match.tenant_id == tenant_id, Participant.member_id == member_id)
        .group_by(Programme.name, Match.id, Match.status)
        .order_by(func.min(CheckIn.met_on))
    ).all()
    out = [
        {
            "programme": name,
            "match_id": mid,
            "status": status,
            "meetings": count,
            "minutes": int(minutes),
            "first": first,
            "last": last,
        }
        for name, mid, status, count, minutes, first, last in rows
    ]
    return MentoringRecord(
        member_name=member.name,
        rows=out,
        total_minutes=sum(r["minutes"] for r in out),
        n_meetings=sum(r["meetings"] for r in out),
    )
