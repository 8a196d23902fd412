"""A member's own data: everything Tandem holds about them, and who can see each part.

The "My data" page, its JSON and HTML downloads, and ``tandem member export`` all read
:func:`member_data`, so what a member downloads is what an operator exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from members import export_member
from records import (
    Agreement,
    Alert,
    CheckIn,
    ErasureRequest,
    Match,
    Member,
    Participant,
    Programme,
    SurveyResponse,
)
from translations import N_

from .errors import NotFoundError


@dataclass(frozen=True)
class DataSection:
    """One part of what Tandem holds: its key in the export, a title, and who sees it
    (English, marked with ``N_``: pages translate them as they show them)."""

    key: str
    title: str
    who_sees: str


SECTIONS = (
    DataSection(
        "profile",
        N_("Your name, email, member number, time zone and language"),
        N_("You and your coordinators; your partner sees your name."),
    ),
    DataSection(
        "identities",
        N_("The accounts Tandem links to you (LMS, directory, portal)"),
        N_("You and the operators who run Tandem."),
    ),
    DataSection("enrolments", N_("Your courses"), N_("You and your coordinators.")),
    DataSection(
        "learning_records",
        N_("Your learning history (completions, grades, progress)"),
        N_("You; your mentor only while you share it in your agreement."),
    ),
    DataSection(
        "programmes",
        N_("Programmes you joined and your questionnaire answers"),
        N_("You and your coordinators; your partner sees the reasons you were matched."),
    ),
    DataSection(
        "pairs", N_("Your matches and agreements"), N_("You, your partner and your coordinators.")
    ),
    DataSection(
        "checkins",
        N_("Meetings you logged: date, length, topics, shared summary"),
        N_("You and your partner; coordinators see only that you met and for how long."),
    ),
    DataSection(
        "private_notes",
        N_("Private notes of your meetings"),
        N_("You and your partner only. Nobody else, ever."),
    ),
    DataSection(
        "surveys",
        N_("Your survey answers"),
        N_("Coordinators see ratings without your name; comments only in a named export."),
    ),
    DataSection(
        "flags",
        N_("What you told the coordinator privately"),
        N_("Your coordinators only; your partner is not told."),
    ),
    DataSection(
        "erasure_requests",
        N_("Your requests to erase your data"),
        N_("You, your coordinators and the operators."),
    ),
)


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _my_side(match: Match, mine: dict[int, Programme]) -> int:
    """The member's participant id in ``match``."""
    return (
        match.mentor_participant_id
        if match.mentor_participant_id in mine
        else (match.mentee_participant_id)
    )


def member_data(session: Session, tenant_id: int, member_id: int) -> dict[str, Any]:
    """Everything Tandem holds about one member, by section (see :data:`SECTIONS`).

    Raises:
        NotFoundError: the member is not one of this tenant's.
    """
    exported = export_member(session, tenant_id, member_id)
    if exported is None:
        raise NotFoundError(f"no member {member_id} in this tenant")
    profile_keys = (
        "id",
        "name",
        "given_name",
        "family_name",
        "email",
        "member_number",
        "time_zone",
        "locale",
        "active",
        "deactivated_at",
    )
    participants = session.execute(
        select(Participant, Programme)
        .join(Programme, Programme.id == Participant.programme_id)
        .where(Participant.tenant_id == tenant_id, Participant.member_id == member_id)
        .order_by(Participant.id)
    ).all()
    mine = {p.id: g for p, g in participants}
    other, partner = aliased(Participant), aliased(Member)
    ids = list(mine)
    side = or_(Match.mentor_participant_id.in_(ids), Match.mentee_participant_id.in_(ids))
    pairs = session.execute(
        select(Match, partner.id, Agreement)
        .join(
            other,
            (other.id == Match.mentor_participant_id) | (other.id == Match.mentee_participant_id),
        )
        .join(partner, partner.id == other.member_id)
        .outerjoin(Agreement, Agreement.match_id == Match.id)
        .where(Match.tenant_id == tenant_id, side, other.id.not_in(ids), Match.status != "draft")
        .order_by(Match.id)
    ).all()
    partners = {
        m.id: m
        for m in session.scalars(
            select(Member).where(
                Member.tenant_id == tenant_id, Member.id.in_([p for _, p, _ in pairs])
            )
        )
    }
    match_ids = [m.id for m, _, _ in pairs]
    checkins = session.scalars(
        select(CheckIn)
        .where(CheckIn.tenant_id == tenant_id, CheckIn.match_id.in_(match_ids))
        .order_by(CheckIn.met_on, CheckIn.id)
    ).all()
    return {
        "profile": {k: exported[k] for k in profile_keys},
        "identities": exported["identities"],
        "enrolments": exported["enrolments"],
        "learning_records": exported["learning_records"],
        "programmes": [
            {
                "programme": g.name,
                "role": p.role,
                "status": p.status,
                "answers": p.answers,
                "enrolled_at": _when(p.enrolled_at),
            }
            for p, g in participants
        ],
        "pairs": [
            {
                "match": m.id,
                "programme": mine[_my_side(m, mine)].name,
                "status": m.status,
                "partner": partners[pid].name,
                "you_are": "mentor" if m.mentor_participant_id in mine else "mentee",
                "why_matched": m.explanation,
                "started_at": _when(m.started_at or m.accepted_at),
                "ended_at": _when(m.ended_at),
                "end_reason": m.end_reason,
                "agreement": None
                if a is None
                else {
                    "goals": a.goals,
                    "meeting_frequency": a.meeting_frequency,
                    "channel": a.channel,
                    "boundaries": a.boundaries,
                    "share_learning_history": a.share_learning_history,
                },
            }
            for m, pid, a in pairs
        ],
        "checkins": [
            {
                "match": c.match_id,
                "met_on": _when(c.met_on),
                "minutes": c.duration_minutes,
                "format": c.format,
                "topics": c.topics,
                "summary": c.summary,
                "logged_by_you": c.logged_by_participant_id in mine,
            }
            for c in checkins
        ],
        "private_notes": [
            {"match": c.match_id, "met_on": _when(c.met_on), "notes": c.private_notes}
            for c in checkins
            if c.private_notes
        ],
        "surveys": [
            {
                "survey": r.survey,
                "match": r.match_id,
                "satisfaction": r.satisfaction,
                "usefulness": r.usefulness,
                "confidence": r.confidence,
                "goal_progress": r.goal_progress,
                "comment": r.comment,
                "answered_at": _when(r.answered_at),
            }
            for r in session.scalars(
                select(SurveyResponse)
                .where(
                    SurveyResponse.tenant_id == tenant_id, SurveyResponse.participant_id.in_(ids)
                )
                .order_by(SurveyResponse.id)
            )
        ],
        "flags": [
            {
                "match": a.match_id,
                "raised_at": _when(a.raised_at),
                "status": a.status,
                "reason": a.detail.get("reason", ""),
            }
            for a in session.scalars(
                select(Alert)
                .where(Alert.tenant_id == tenant_id, Alert.raised_by_member_id == member_id)
                .order_by(Alert.id)
            )
        ],
        "erasure_requests": [
            {
                "requested_at": _when(r.requested_at),
                "status": r.status,
                "coordinator_note": r.coordinator_note,
                "done_at": _when(r.done_at),
            }
            for r in session.scalars(
                select(ErasureRequest)
                .where(ErasureRequest.tenant_id == tenant_id, ErasureRequest.member_id == member_id)
                .order_by(ErasureRequest.id)
            )
        ],
    }
