"""The home pages and the navigation: what a member does next, what needs a coordinator,
and the links every signed-in page shows.

Read models only (the coordinator's home also notes the visit); every query is scoped
to the actor's tenant, and which programmes a person sees comes from the one rule
(:func:`~.setup.list_programmes`, :func:`~.access.open_to_member`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from checkins import (
    SURVEY_TITLES,
    InvalidInput,
    is_signed,
    member_today,
    pair_states,
    settings_of,
    surveys_open_to,
)
from checkins.attention import ClosingSurvey, pair_attention
from checkins.ics import zone
from records import Agreement, Course, HomeVisit, Match, Member, Participant, Programme, utcnow

from .access import Actor, require_coordinator
from .errors import NotFoundError
from .setup import list_programmes

# What a member may have to do, most pressing first: the order of the member's home.
PROPOSAL = "proposal"
AGREEMENT = "agreement"
CHECKIN = "checkin"
SURVEY = "survey"
ENROL = "enrol"
STEP_ORDER = (PROPOSAL, AGREEMENT, CHECKIN, SURVEY, ENROL)

RUNNING = ("accepted", "active")
# A new sitting begins when the coordinator comes back after this long: what was new
# when the sitting began stays "new" until then.
SITTING = timedelta(hours=1)


@dataclass(frozen=True)
class NextStep:
    """One thing the member can do now, and where.

    ``due_on`` is the day a check-in fell due (in the member's calendar); ``survey`` the
    survey to answer; ``written`` tells an agreement to sign from one still to write.
    """

    kind: str
    programme_id: int
    programme_name: str
    match_id: int | None = None
    partner_name: str | None = None
    due_on: date | None = None
    survey: str | None = None
    written: bool = False

    @property
    def survey_title(self) -> str | None:
        return SURVEY_TITLES[self.survey] if self.survey else None


@dataclass(frozen=True)
class MemberHome:
    """What the member's home page says is next."""

    today: date
    time_zone: str
    steps: tuple[NextStep, ...]
    # The next day a check-in falls due, when none is due yet.
    next_checkin_on: date | None = None

    @property
    def days_to_next_checkin(self) -> int | None:
        if self.next_checkin_on is None:
            return None
        return (self.next_checkin_on - self.today).days


# Every member's home asks these: built once, with bound parameters. The member's
# participations; their matches, each with its programme and agreement (a match has at
# most one); and the members behind some participations (the partners).
_PARTICIPATIONS = select(Participant).where(
    Participant.tenant_id == bindparam("tenant_id"),
    Participant.member_id == bindparam("member_id"),
)
_MINE = bindparam("mine", expanding=True)
_MATCHES = (
    select(Match, Programme, Agreement)
    .join(
        Programme,
        (Programme.id == Match.programme_id) & (Programme.tenant_id == Match.tenant_id),
    )
    .outerjoin(
        Agreement,
        (Agreement.match_id == Match.id) & (Agreement.tenant_id == Match.tenant_id),
    )
    .where(
        Match.tenant_id == bindparam("tenant_id"),
        or_(Match.mentor_participant_id.in_(_MINE), Match.mentee_participant_id.in_(_MINE)),
        Match.status.in_(("proposed", *RUNNING, "closed")),
    )
    .order_by(Match.id)
)
_MEMBERS_OF = (
    select(Participant.id, Member)
    .join(
        Member,
        (Member.tenant_id == Participant.tenant_id) & (Member.id == Participant.member_id),
    )
    .where(
        Participant.tenant_id == bindparam("tenant_id"),
        Participant.id.in_(bindparam("ids", expanding=True)),
    )
)


def member_home(session: Session, actor: Actor, *, now: datetime | None = None) -> MemberHome:
    """What the acting member does next, in order: a match proposal to answer, an
    agreement to sign, a check-in due, an open survey, a programme to enrol in.

    Days are the member's (their time zone, UTC when unknown).

    Raises:
        NotFoundError: the actor is not a member of their tenant.
    """
    tenant_id = actor.tenant_id
    # By primary key, then the tenant: the landing page has loaded this member already,
    # so the identity map answers without a query.
    member = session.get(Member, actor.member_id)
    if member is None or member.tenant_id != tenant_id:
        raise NotFoundError("No such member.")
    today = member_today(member, now)
    mine = {
        p.id: p
        for p in session.scalars(_PARTICIPATIONS, {"tenant_id": tenant_id, "member_id": member.id})
    }
    found = (
        session.execute(_MATCHES, {"tenant_id": tenant_id, "mine": list(mine)}).all()
        if mine
        else []
    )
    rows = [(match, programme) for match, programme, _ in found]
    agreements = {match.id: agreement for match, _, agreement in found if agreement is not None}
    partners = _partner_names(session, tenant_id, [m for m, _ in rows], set(mine))
    steps: list[NextStep] = []
    next_due: list[date] = []
    running_by_programme: dict[int, list[Match]] = {}
    for match, programme in rows:
        side = "mentor" if match.mentor_participant_id in mine else "mentee"
        where: dict[str, Any] = {"programme_id": programme.id, "programme_name": programme.name,
                 "match_id": match.id, "partner_name": partners.get(match.id)}  # fmt: skip
        if match.status == "proposed":
            if getattr(match, f"{side}_response") == "pending":
                steps.append(NextStep(PROPOSAL, **where))
            continue
        if match.status in RUNNING:
            agreement = agreements.get(match.id)
            if agreement is None or getattr(agreement, f"{side}_signed_at") is None:
                steps.append(NextStep(AGREEMENT, written=agreement is not None, **where))
            running_by_programme.setdefault(programme.id, []).append(match)
        # Whose side is known (the match was found by the member's participations).
        me = getattr(match, f"{side}_participant_id")
        for survey in surveys_open_to(session, tenant_id, me, match, programme, today):
            steps.append(NextStep(SURVEY, survey=survey.survey, **where))
    programmes_by_id = {p.id: p for _, p in rows}
    for programme_id, matches in running_by_programme.items():
        programme = programmes_by_id[programme_id]
        locked = settings_of(programme).require_agreement
        states = pair_states(
            session, tenant_id, programme, today, match_ids=[m.id for m in matches]
        )
        for state in states:
            if state.due_on is None:
                continue
            if locked and not is_signed(agreements.get(state.match_id)):
                continue  # nothing can be logged before both sign: the agreement comes first
            if state.due_on <= today:
                steps.append(
                    NextStep(CHECKIN, programme.id, programme.name, state.match_id,
                             partners.get(state.match_id), due_on=state.due_on)
                )  # fmt: skip
            else:
                next_due.append(state.due_on)
    taken = {p.programme_id for p in mine.values()}
    as_member = Actor(tenant_id, member.id, course_id=actor.course_id)
    for programme in list_programmes(session, as_member):
        if programme.status == "enrolling" and programme.id not in taken:
            steps.append(NextStep(ENROL, programme.id, programme.name))
    steps.sort(key=lambda s: (STEP_ORDER.index(s.kind), s.due_on or date.min, s.programme_name))
    return MemberHome(
        today=today,
        time_zone=_zone_name(member),
        steps=tuple(steps),
        next_checkin_on=min(next_due) if next_due else None,
    )


def _zone_name(member: Member) -> str:
    """The zone the member's days are counted in: theirs, or UTC when unset or unknown
    (as :func:`checkins.member_today` counts them)."""
    try:
        return str(zone(member.time_zone))
    except InvalidInput:
        return "UTC"


def _partner_names(
    session: Session, tenant_id: int, matches: list[Match], mine: set[int]
) -> dict[int, str]:
    """The other side's name of each match, by match id (one query)."""
    other = {
        m.id: m.mentor_participant_id
        if m.mentee_participant_id in mine
        else m.mentee_participant_id
        for m in matches
    }
    if not other:
        return {}
    ids = sorted(set(other.values()))
    people = dict(session.execute(_MEMBERS_OF, {"tenant_id": tenant_id, "ids": ids}).all())
    return {match_id: people[pid].name for match_id, pid in other.items() if pid in people}


# -- the coordinator's home ------------------------------------------------------------


@dataclass
class ProgrammeAttention:
    """One programme on the coordinator's home: its state and what needs them."""

    programme: Programme
    n_enrolled: int = 0
    n_new: int = 0
    n_drafts: int = 0
    n_quiet: int = 0
    n_at_risk: int = 0
    n_alerts: int = 0
    closing: list[ClosingSurvey] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return bool(
            self.programme.status == "draft"  # not open for enrolment yet
            or self.n_new
            or self.n_drafts
            or self.n_quiet
            or self.n_at_risk
            or self.n_alerts
            or self.closing
        )


@dataclass(frozen=True)
class CoordinatorHome:
    """The coordinator's programmes with what needs attention; ``since`` is the visit
    "new" counts from (``None`` on a first visit: everything counts)."""

    since: datetime | None
    programmes: list[ProgrammeAttention]


def coordinator_home(
    session: Session, actor: Actor, *, now: datetime | None = None
) -> CoordinatorHome:
    """Each programme the coordinator may open (the one rule), with its state and what
    needs attention: enrolments since the last visit, draft pairs not yet published,
    open alerts, quiet and at-risk pairs, surveys closing soon.

    Notes this visit (the caller commits).

    Raises:
        PermissionDeniedError: the actor is not a coordinator.
    """
    require_coordinator(actor)
    now = now or utcnow()
    since = note_visit(session, actor, now)
    listed = list_programmes(session, actor)
    ids = [p.id for p in listed]
    enrolled = _count_by_programme(session, actor.tenant_id, ids, None)
    new = _count_by_programme(session, actor.tenant_id, ids, since) if since else enrolled
    drafts = dict(
        session.execute(
            select(Match.programme_id, func.count(Match.id))
            .where(
                Match.tenant_id == actor.tenant_id,
                Match.programme_id.in_(ids),
                Match.status == "draft",
            )
            .group_by(Match.programme_id)
        ).all()
    )
    today = now.date()
    out = []
    for programme in listed:
        row = ProgrammeAttention(
            programme,
            n_enrolled=enrolled.get(programme.id, 0),
            n_new=new.get(programme.id, 0),
            n_drafts=drafts.get(programme.id, 0),
        )
        if programme.status in ("matching", "running"):
            pairs = pair_attention(session, actor.tenant_id, programme, today)
            row.n_quiet, row.n_at_risk = pairs.n_quiet, pairs.n_at_risk
            row.n_alerts, row.closing = pairs.n_alerts, pairs.closing
        out.append(row)
    # Closed programmes last; otherwise the list's own order (newest first).
    out.sort(key=lambda r: r.programme.status == "closed")
    return CoordinatorHome(since=since, programmes=out)


def note_visit(session: Session, actor: Actor, now: datetime) -> datetime | None:
    """Record a visit to the coordinator's home; returns what "new" counts from.

    A visit within :data:`SITTING` of the last one belongs to the same sitting and
    keeps its reference; a later one counts from the last visit of the previous sitting.
    """
    visit = session.scalars(
        select(HomeVisit).where(
            HomeVisit.tenant_id == actor.tenant_id, HomeVisit.member_id == actor.member_id
        )
    ).first()
    if visit is None:
        session.add(HomeVisit(tenant_id=actor.tenant_id, member_id=actor.member_id,
                              visited_at=now, seen_since=None))  # fmt: skip
        session.flush()
        return None
    if now - visit.visited_at > SITTING:
        visit.seen_since = visit.visited_at
    visit.visited_at = now
    session.flush()
    return visit.seen_since


def _count_by_programme(
    session: Session, tenant_id: int, programme_ids: list[int], since: datetime | None
) -> dict[int, int]:
    """Participants (not withdrawn) per programme, enrolled after ``since`` if given."""
    query = (
        select(Participant.programme_id, func.count(Participant.id))
        .where(
            Participant.tenant_id == tenant_id,
            Participant.programme_id.in_(programme_ids),
            Participant.status != "withdrawn",
        )
        .group_by(Participant.programme_id)
    )
    if since is not None:
        query = query.where(Participant.enrolled_at > since)
    return dict(session.execute(query).all())


# -- navigation ------------------------------------------------------------------------


@dataclass(frozen=True)
class Navigation:
    """What the navigation of every signed-in page shows beyond its fixed links."""

    course_title: str | None
    # (programme id, name) of each programme whose dashboard the coordinator may open.
    dashboards: tuple[tuple[int, str], ...] = ()


def navigation(session: Session, actor: Actor) -> Navigation:
    """The course the actor launched from, and for a coordinator the programmes (not
    closed) they coordinate, by the one rule that admits them to each dashboard."""
    course_title = None
    if actor.course_id is not None:
        # By primary key (usually already loaded by the page), then the tenant.
        course = session.get(Course, actor.course_id)
        if course is not None and course.tenant_id == actor.tenant_id:
            course_title = course.title
    dashboards: tuple[tuple[int, str], ...] = ()
    if actor.coordinator:
        dashboards = tuple(
            (p.id, p.name) for p in list_programmes(session, actor) if p.status != "closed"
        )
    return Navigation(course_title=course_title or None, dashboards=dashboards)
