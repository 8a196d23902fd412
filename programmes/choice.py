"""Mentee choice and hybrid (shortlist) programmes: mentees pick, mentors answer.

In a mentee-choice programme a mentee sees every mentor with a free place, ranked for
them with the reasons, and requests one; the mentor accepts or declines within the
programme's ``response_days``. In a hybrid programme the coordinator opens shortlists
of k mentors per mentee (spread so popular mentors are not on everyone's list) and a
deadline; mentees pick from their list, and those who do not are assigned on match day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching import MatchingError, Scorer
from matching import explain as explain_pair
from records import Match, Participant, record_event, utcnow

from .access import Actor, coordinated_programme, get_participant, get_programme, own_participant
from .decisions import SLOT_HOLDING, free_slot, take_slot
from .errors import ConflictError, InvalidInputError, PermissionDeniedError
from .notices import tell
from .questionnaire import to_matching
from .readiness import describe
from .roster import Roster, factor_dicts, load_roster, programme_matches

# Answers a mentor profile shows by default; a programme may set its own list.
PROFILE_FIELDS = ("about", "can_offer", "supports_goals", "values", "style", "languages")


@dataclass(frozen=True)
class MentorProfile:
    """A mentor as a mentee sees them when choosing."""

    participant_id: int
    name: str
    headline: str
    score: float
    factors: list[dict[str, Any]]
    answers: dict[str, Any]
    free_places: int


def _mentee(session: Session, actor: Actor, programme_id: int) -> Participant:
    participant = own_participant(session, actor, programme_id)
    if participant is None or participant.status == "withdrawn":
        raise ConflictError("Enrol in the programme first.")
    if participant.role != "mentee":
        raise PermissionDeniedError("Only mentees choose a mentor.")
    return participant


def _profile_answers(roster: Roster, mentor: Participant) -> dict[str, Any]:
    fields = (roster.programme.settings or {}).get("profile_fields", PROFILE_FIELDS)
    return {k: mentor.answers[k] for k in fields if k in mentor.answers}


def ranked_mentors(session: Session, actor: Actor, programme_id: int) -> list[MentorProfile]:
    """Mentors the acting mentee may request, best for them first.

    Full mentors, mentors a must-match rule rules out, and mentors of an earlier
    declined or ended pair are left out; in a hybrid programme, only the shortlist.
    """
    programme = get_programme(session, actor, programme_id)
    if programme.matching_mode == "assigned":
        raise ConflictError("In this programme the coordinator makes the matches.")
    mentee = _mentee(session, actor, programme_id)
    roster = load_roster(session, programme)
    if mentee.id in roster.not_ready:
        raise ConflictError(
            f"You are {describe(roster.not_ready[mentee.id][1])}: "
            "you can choose a mentor once that is done."
        )
    ended = {
        m.mentor_participant_id
        for m in programme_matches(session, programme)
        if m.mentee_participant_id == mentee.id and m.status in ("declined", "closed", "rematched")
    }
    candidates = [m for m in roster.mentors if m.id not in ended]
    if programme.matching_mode == "hybrid":
        listed = set((programme.settings or {}).get("shortlists", {}).get(str(mentee.id), []))
        candidates = [m for m in candidates if m.id in listed]
    default = programme.default_capacity
    candidates = [m for m in candidates if m.slots_taken < (m.capacity or default)]
    if not candidates:
        return []
    scorer = Scorer(to_matching(programme.questionnaire), reverse=programme.kind == "reverse")
    try:
        scorer.fit(roster.answers([mentee]), roster.answers(candidates))
    except MatchingError as exc:
        raise InvalidInputError(f"Mentors could not be ranked: {exc}") from exc
    scores = scorer.rows(np.array([0]))[0]
    profiles = []
    for j in np.argsort(-scores, kind="stable"):
        if not np.isfinite(scores[j]):
            continue  # a must-match rule rules this mentor out
        mentor = candidates[int(j)]
        member = roster.members.get(mentor.member_id)
        profiles.append(
            MentorProfile(
                participant_id=mentor.id,
                name=roster.name(mentor),
                headline=(member.profile or {}).get("headline", "") if member else "",
                score=float(scores[j]),
                factors=factor_dicts(explain_pair(scorer, 0, int(j)).factors),
                answers=_profile_answers(roster, mentor),
                free_places=(mentor.capacity or default) - mentor.slots_taken,
            )
        )
    return profiles


def request_mentor(session: Session, actor: Actor, programme_id: int, mentor_id: int) -> Match:
    """The acting mentee asks a mentor; the mentor's place is held until they answer.

    Raises:
        ConflictError: the mentee already has a match or an open request, the shortlist
            deadline passed, or the mentor's last place was just taken.
        InvalidInputError: the mentor is not one the mentee may request.
    """
    programme = get_programme(session, actor, programme_id)
    lapse_overdue_requests(session, programme.tenant_id, programme.id)
    mentee = _mentee(session, actor, programme_id)
    if any(
        m.mentee_participant_id == mentee.id and m.status in SLOT_HOLDING
        for m in programme_matches(session, programme)
    ):
        raise ConflictError("You already have a mentor or a request waiting for an answer.")
    settings = programme.settings or {}
    if programme.matching_mode == "hybrid":
        deadline = settings.get("choose_by")
        if deadline is None:
            raise ConflictError("Shortlists are not open yet.")
        if utcnow() > datetime.fromisoformat(deadline):
            raise ConflictError("The time to choose has passed; the coordinator will assign you.")
    allowed = {p.participant_id: p for p in ranked_mentors(session, actor, programme_id)}
    if mentor_id not in allowed:
        mentor = get_participant(session, actor, programme_id, mentor_id)
        full = mentor.role == "mentor" and mentor.slots_taken >= (
            mentor.capacity or programme.default_capacity
        )
        if full:
            raise ConflictError("That mentor has no free place left: it was just taken.")
        raise InvalidInputError("You cannot request this mentor.")
    mentor = get_participant(session, actor, programme_id, mentor_id)
    take_slot(session, mentor)
    now = utcnow()
    match = Match(
        tenant_id=programme.tenant_id,
        programme_id=programme.id,
        mentor_participant_id=mentor.id,
        mentee_participant_id=mentee.id,
        score=float(np.clip(allowed[mentor_id].score, 0, 100)),
        explanation=allowed[mentor_id].factors,
        status="proposed",
        made_by="mentee",
        mentee_response="accepted",
        published_at=now,
        respond_by=now + timedelta(days=int(settings.get("response_days", 7))),
    )
    session.add(match)
    session.flush()
    record_event(
        session,
        actor.tenant_id,
        "match.request",
        actor_member_id=actor.member_id,
        subject=match,
        detail={"mentor": mentor.id},
    )
    # The mentor hears of the request now (the daily reminders would only chase it).
    tell(session, programme.tenant_id, "match_proposed", [match.id])
    return match


def lapse_overdue_requests(
    session: Session, tenant_id: int | None = None, programme_id: int | None = None
) -> int:
    """Decline mentees' requests a mentor left unanswered past their date; returns how many.

    Scoped to one programme, or (``tandem remind``, from cron) every tenant's. Pairs a
    coordinator published are not lapsed: they wait for both answers.
    """
    now = utcnow()
    query = select(Match).where(
        Match.status == "proposed",
        Match.made_by == "mentee",
        Match.mentor_response == "pending",
        Match.respond_by < now,
    )
    if tenant_id is not None:
        query = query.where(Match.tenant_id == tenant_id)
    if programme_id is not None:
        query = query.where(Match.programme_id == programme_id)
    overdue = session.scalars(query.order_by(Match.id)).all()
    for match in overdue:
        match.status, match.ended_at = "declined", now
        match.end_reason = "the mentor did not answer in time"
        mentor = session.get(Participant, match.mentor_participant_id)
        mentee = session.get(Participant, match.mentee_participant_id)
        if mentor is not None:
            free_slot(session, mentor)
        if mentee is not None:
            mentee.status = "enrolled"
        record_event(session, match.tenant_id, "match.lapse", subject=match)
    return len(overdue)


def open_shortlists(session: Session, actor: Actor, programme_id: int, choose_by: datetime) -> int:
    """Give every unmatched mentee a shortlist of k mentors, open until ``choose_by``.

    Returns the number of mentees given a shortlist.
    """
    programme = coordinated_programme(session, actor, programme_id)
    if programme.matching_mode != "hybrid":
        raise ConflictError("Shortlists are for hybrid programmes.")
    if choose_by <= utcnow():
        raise InvalidInputError(
            "The deadline must be in the future.", {"choose_by": "In the past."}
        )
    roster = load_roster(session, programme)
    if not roster.mentors or not roster.mentees:
        raise InvalidInputError("Shortlists need enrolled mentors and mentees.")
    matched = {
        m.mentee_participant_id
        for m in programme_matches(session, programme)
        if m.status in SLOT_HOLDING
    }
    rows = [i for i, p in enumerate(roster.mentees) if p.id not in matched]
    matcher = roster.matcher(mode="shortlist")
    try:
        matcher.fit(
            roster.answers(roster.mentees),
            roster.answers(roster.mentors),
            capacities=roster.capacities(),
            rows=rows,
        )
    except MatchingError as exc:
        raise InvalidInputError(f"Shortlists could not be made: {exc}") from exc
    shortlists: dict[str, list[int]] = {}
    for i, short in enumerate(matcher.result_.shortlists or ()):
        if short:
            shortlists[str(roster.mentees[i].id)] = [roster.mentors[p.mentor].id for p in short]
    programme.settings = {
        **(programme.settings or {}),
        "shortlists": shortlists,
        "choose_by": choose_by.isoformat(),
    }
    programme.status = "matching"
    record_event(
        session,
        actor.tenant_id,
        "matching.shortlists",
        actor_member_id=actor.member_id,
        subject=programme,
        detail={"mentees": len(shortlists)},
    )
    return len(shortlists)
