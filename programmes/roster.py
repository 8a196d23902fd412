"""A programme's active participants, loaded once and handed to the matching engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching import Factor, Matcher
from records import Match, Member, Participant, Programme

from .access import members_by_id
from .questionnaire import matching_answers, to_matching
from .readiness import Requirement, missing_requirements


@dataclass
class Roster:
    """Enrolled (not withdrawn) participants of one programme who are ready, by side.

    For peer programmes everyone is in ``mentees`` (one pool) and ``mentors`` is empty.
    Those the programme's readiness rules hold back are in ``not_ready`` with what they
    still have to do: nothing that matches people from a roster ever sees them.
    """

    programme: Programme
    mentors: list[Participant]
    mentees: list[Participant]
    members: dict[int, Member] = field(default_factory=dict)
    not_ready: dict[int, tuple[Participant, list[Requirement]]] = field(default_factory=dict)

    @property
    def peer(self) -> bool:
        return self.programme.kind == "peer"

    def reference_date(self) -> date:
        return self.programme.starts_on or date.today()

    def answers(self, participants: list[Participant]) -> list[dict[str, Any]]:
        on = self.reference_date()
        definition = self.programme.questionnaire
        return [matching_answers(definition, p.answers, on) for p in participants]

    def capacities(self) -> list[int]:
        default = self.programme.default_capacity
        return [p.capacity or default for p in self.mentors]

    def matcher(self, **params: Any) -> Matcher:
        """A matcher for this programme's kind and questionnaire."""
        settings = self.programme.settings or {}
        return Matcher(
            to_matching(self.programme.questionnaire),
            kind=self.programme.kind,
            min_group_size=settings.get("min_group_size")
            if self.programme.kind == "group"
            else None,
            group_size=int(settings.get("group_size", 2)),
            k=int(settings.get("shortlist_k", 3)),
            **params,
        )

    def name(self, participant: Participant) -> str:
        member = self.members.get(participant.member_id)
        return member.name if member is not None else f"Participant {participant.id}"


def load_roster(session: Session, programme: Programme) -> Roster:
    """Load the programme's enrolled participants who are ready, and their members.

    Two queries, and up to three more when the programme has readiness rules.
    """
    participants = session.scalars(
        select(Participant)
        .where(
            Participant.tenant_id == programme.tenant_id,
            Participant.programme_id == programme.id,
            Participant.status != "withdrawn",
        )
        .order_by(Participant.id)
    ).all()
    members = members_by_id(session, programme.tenant_id, {p.member_id for p in participants})
    missing = missing_requirements(session, programme, participants)
    not_ready = {p.id: (p, missing[p.id]) for p in participants if p.id in missing}
    ready = [p for p in participants if p.id not in missing]
    if programme.kind == "peer":
        return Roster(programme, [], [p for p in ready if p.role == "peer"], members, not_ready)
    return Roster(
        programme,
        [p for p in ready if p.role == "mentor"],
        [p for p in ready if p.role == "mentee"],
        members,
        not_ready,
    )


def programme_matches(session: Session, programme: Programme) -> list[Match]:
    return list(
        session.scalars(
            select(Match)
            .where(Match.tenant_id == programme.tenant_id, Match.programme_id == programme.id)
            .order_by(Match.id)
        )
    )


def factor_dicts(factors: tuple[Factor, ...] | list[Factor]) -> list[dict[str, Any]]:
    """Explanation factors as plain data for the Match row."""
    return [
        {
            "question": f.question,
            "rule": f.rule,
            "points": round(float(f.points), 1),
            "max_points": round(float(f.max_points), 1),
            "direction": f.direction,
            "text": f.text,
            "hard": bool(f.hard),
            "passed": bool(f.passed),
        }
        for f in factors
    ]
