"""Read-only page models: what the match-day board and a member's programme page show.

Each function loads everything its page needs in a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from records import Match, Participant, Programme

from .access import (
    Actor,
    coordinated_programme,
    get_programme,
    members_by_id,
    own_participant,
)
from .decisions import SLOT_HOLDING
from .enrolment import roles_for
from .readiness import Requirement, describe, missing_requirements
from .roster import load_roster, programme_matches


@dataclass(frozen=True)
class PairView:
    match_id: int
    mentor_id: int
    mentor_name: str
    mentee_id: int
    mentee_name: str
    score: float
    factors: list[dict[str, Any]]
    status: str
    locked: bool
    made_by: str
    mentor_response: str
    mentee_response: str
    group_key: str | None

    @property
    def warnings(self) -> list[str]:
        return [f["text"] for f in self.factors if f.get("hard") and not f.get("passed")]


@dataclass(frozen=True)
class MentorLoad:
    participant_id: int
    name: str
    used: int
    capacity: int


@dataclass
class DraftBoard:
    """The coordinator's match-day page."""

    programme: Programme
    drafts: list[PairView] = field(default_factory=list)
    published: list[PairView] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    mentors: list[MentorLoad] = field(default_factory=list)
    mentees: list[tuple[int, str]] = field(default_factory=list)
    # Enrolled but held back by the readiness rules: name, side and what is missing.
    not_ready: list[dict[str, Any]] = field(default_factory=list)
    last_run: dict[str, Any] | None = None
    n_mentees: int = 0
    n_drafts: int = 0
    page: int = 1
    pages: int = 1

    @property
    def can_publish(self) -> bool:
        return self.n_drafts > 0


def _pair_view(match: Match, names: dict[int, str]) -> PairView:
    return PairView(
        match_id=match.id,
        mentor_id=match.mentor_participant_id,
        mentor_name=names.get(match.mentor_participant_id, "?"),
        mentee_id=match.mentee_participant_id,
        mentee_name=names.get(match.mentee_participant_id, "?"),
        score=round(match.score, 1),
        factors=list(match.explanation or []),
        status=match.status,
        locked=match.locked,
        made_by=match.made_by,
        mentor_response=match.mentor_response,
        mentee_response=match.mentee_response,
        group_key=match.group_key,
    )


DRAFTS_PER_PAGE = 100


def draft_board(session: Session, actor: Actor, programme_id: int, *, page: int = 1) -> DraftBoard:
    """Everything the match-day page shows; draft pairs a page of 100 at a time, the
    lowest scores first (the ones worth a second look)."""
    programme = coordinated_programme(session, actor, programme_id)
    roster = load_roster(session, programme)
    people = roster.mentors + roster.mentees + [p for p, _ in roster.not_ready.values()]
    names = {p.id: roster.name(p) for p in people}
    matches = programme_matches(session, programme)
    board = DraftBoard(programme=programme, n_mentees=len(roster.mentees))
    drafts = sorted(
        (m for m in matches if m.status == "draft"),
        key=lambda m: (m.score, names.get(m.mentee_participant_id, "")),
    )
    board.n_drafts = len(drafts)
    board.pages = max(1, -(-len(drafts) // DRAFTS_PER_PAGE))
    board.page = min(max(1, page), board.pages)
    start = (board.page - 1) * DRAFTS_PER_PAGE
    board.drafts = [_pair_view(m, names) for m in drafts[start : start + DRAFTS_PER_PAGE]]
    board.published = [_pair_view(m, names) for m in matches if m.status in SLOT_HOLDING]
    board.published.sort(key=lambda v: (v.mentor_name, v.mentee_name))
    live = [m for m in matches if m.status == "draft" or m.status in SLOT_HOLDING]
    paired = {m.mentee_participant_id for m in live}
    if programme.kind == "peer":
        paired |= {m.mentor_participant_id for m in live}
    last_run = (programme.settings or {}).get("last_run")
    board.last_run = last_run
    reasons = {u["participant_id"]: u["reason"] for u in (last_run or {}).get("unmatched", [])}
    board.unmatched = [
        {
            "participant_id": p.id,
            "name": names[p.id],
            "reason": reasons.get(p.id, "not matched yet"),
        }
        for p in roster.mentees
        if p.id not in paired
    ]
    used: dict[int, int] = {}
    for match in live:
        used[match.mentor_participant_id] = used.get(match.mentor_participant_id, 0) + 1
    board.mentors = [
        MentorLoad(p.id, names[p.id], used.get(p.id, 0), p.capacity or programme.default_capacity)
        for p in sorted(roster.mentors, key=lambda p: names[p.id])
    ]
    board.mentees = sorted(((p.id, names[p.id]) for p in roster.mentees), key=lambda t: t[1])
    board.not_ready = sorted(
        (
            {
                "participant_id": p.id,
                "name": names[p.id],
                "role": p.role,
                "reason": describe(missing),
            }
            for p, missing in roster.not_ready.values()
        ),
        key=lambda row: (row["role"], row["name"]),
    )
    return board


@dataclass
class MemberProgramme:
    """A member's own view of a programme."""

    programme: Programme
    participant: Participant | None
    roles: tuple[str, ...]
    matches: list[PairView] = field(default_factory=list)
    # What the member still has to do before they can be matched (the readiness rules).
    missing: list[Requirement] = field(default_factory=list)

    @property
    def enrolled(self) -> bool:
        return self.participant is not None and self.participant.status != "withdrawn"

    def side_of(self, view: PairView) -> str:
        assert self.participant is not None
        return "mentor" if view.mentor_id == self.participant.id else "mentee"

    def waiting_for_me(self, view: PairView) -> bool:
        if view.status != "proposed" or self.participant is None:
            return False
        return getattr(view, f"{self.side_of(view)}_response") == "pending"


def member_programme(session: Session, actor: Actor, programme_id: int) -> MemberProgramme:
    """The acting member's page of a programme: enrolment state and published matches.

    Drafts are never shown to members.
    """
    programme = get_programme(session, actor, programme_id)
    participant = own_participant(session, actor, programme_id)
    page = MemberProgramme(programme, participant, roles_for(programme.kind))
    if participant is None:
        return page
    if participant.status != "withdrawn":
        page.missing = missing_requirements(session, programme, [participant]).get(
            participant.id, []
        )
    # Only the member's own published matches and the people in them: a member's page
    # must not load the whole programme.
    mine = list(
        session.scalars(
            select(Match)
            .where(
                Match.tenant_id == programme.tenant_id,
                Match.programme_id == programme.id,
                Match.status != "draft",
                or_(
                    Match.mentor_participant_id == participant.id,
                    Match.mentee_participant_id == participant.id,
                ),
            )
            .order_by(Match.id)
        )
    )
    if mine:
        ids = {i for m in mine for i in (m.mentor_participant_id, m.mentee_participant_id)}
        people = session.scalars(
            select(Participant).where(
                Participant.tenant_id == programme.tenant_id, Participant.id.in_(ids)
            )
        ).all()
        members = members_by_id(session, programme.tenant_id, {p.member_id for p in people})
        names = {
            p.id: members[p.member_id].name if p.member_id in members else f"Participant {p.id}"
            for p in people
        }
        page.matches = [_pair_view(m, names) for m in mine]
    return page
