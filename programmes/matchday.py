"""Match day in assigned and hybrid programmes: run, review, adjust, publish.

The coordinator runs matching and gets a draft (``Match`` rows in status ``draft``,
invisible to members); they can override, swap, lock and re-run for the rest, then
publish, which proposes every draft pair to both sides.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from matching import MatchingError, MatchResult, Scorer
from matching import explain as explain_pair
from records import Match, Participant, record_event, utcnow

from .access import Actor, coordinated_programme, get_participant
from .decisions import SLOT_HOLDING, take_slot
from .errors import ConflictError, InvalidInputError
from .notices import tell
from .questionnaire import matching_answers, to_matching
from .readiness import require_ready
from .roster import Roster, factor_dicts, load_roster, programme_matches

OBJECTIVES = ("max_score", "max_participation", "fair")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunSummary:
    """What a matching run did, for the page and the command line."""

    programme_id: int
    mentees: int
    mentors: int
    proposed: int
    held: int
    unmatched: int
    total: float
    bound: float | None
    lowest: float | None
    seconds: float
    unmatched_reasons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def gap(self) -> float | None:
        """How far the total may be below the optimum, as a share of the bound."""
        if self.bound is None or self.bound <= 0:
            return None
        return max(0.0, (self.bound - self.total) / self.bound)


def _pair_key(match: Match) -> tuple[int, int]:
    return match.mentee_participant_id, match.mentor_participant_id


def run_matching(
    session: Session,
    actor: Actor,
    programme_id: int,
    *,
    objective: str = "max_score",
    progress: Progress | None = None,
) -> RunSummary:
    """Run matching for everyone not yet in a locked or published pair.

    Unlocked draft pairs are replaced; locked ones and published ones are held fixed (and
    use their mentor's capacity); pairs that were declined or ended are never proposed
    again.

    Raises:
        ConflictError: a mentee-choice programme (mentees choose), or a closed programme.
        InvalidInputError: no mentors, no mentees, or an unknown objective.
    """
    say = progress or (lambda _message: None)
    programme = coordinated_programme(session, actor, programme_id)
    if programme.matching_mode == "mentee_choice":
        raise ConflictError(
            "In this programme mentees choose their mentors, so there is no draft to run."
        )
    if programme.status == "closed":
        raise ConflictError("This programme is closed.")
    if objective not in OBJECTIVES:
        raise InvalidInputError(f"Objective must be one of {', '.join(OBJECTIVES)}.")
    started = time.perf_counter()
    say("loading participants")
    roster = load_roster(session, programme)
    _require_people(roster)
    existing = programme_matches(session, programme)

    say("clearing the previous draft")
    session.execute(
        delete(Match)
        .where(
            Match.tenant_id == programme.tenant_id,
            Match.programme_id == programme.id,
            Match.status == "draft",
            Match.locked.is_(False),
        )
        .execution_options(synchronize_session="fetch")
    )
    kept = [m for m in existing if m.status in SLOT_HOLDING or (m.status == "draft" and m.locked)]
    ended = [m for m in existing if m.status in ("declined", "closed", "rematched")]

    say(f"scoring {len(roster.mentees)} x {len(roster.mentors) or len(roster.mentees)}")
    if roster.peer:
        created, result = _run_peer(session, roster, kept, ended)
    else:
        created, result = _run_mentoring(session, roster, kept, ended, objective, say)

    seconds = time.perf_counter() - started
    people = roster.mentees
    reasons = [
        {
            "participant_id": people[u.mentee].id,
            "name": roster.name(people[u.mentee]),
            "reason": u.reason,
        }
        for u in result.unmatched
    ]
    summary = RunSummary(
        programme_id=programme.id,
        mentees=len(roster.mentees),
        mentors=len(roster.mentors),
        proposed=created,
        held=len(kept),
        unmatched=len(reasons),
        total=float(result.total),
        bound=None if result.bound is None else float(result.bound),
        lowest=None if result.lowest is None else float(result.lowest),
        seconds=seconds,
        unmatched_reasons=reasons,
    )
    programme.settings = {
        **(programme.settings or {}),
        "last_run": {
            "ran_at": utcnow().isoformat(),
            "objective": objective,
            "seconds": round(seconds, 3),
            "total": summary.total,
            "bound": summary.bound,
            "unmatched": reasons,
        },
    }
    if programme.status in ("draft", "enrolling"):
        programme.status = "matching"
    record_event(
        session,
        actor.tenant_id,
        "matching.run",
        actor_member_id=actor.member_id,
        subject=programme,
        detail={
            "proposed": created,
            "held": len(kept),
            "unmatched": len(reasons),
            "objective": objective,
        },
    )
    say("draft ready")
    return summary


def _require_people(roster: Roster) -> None:
    if roster.peer:
        if len(roster.mentees) < 2:
            raise InvalidInputError("Peer matching needs at least two enrolled peers.")
        return
    held = {p.role for p, _ in roster.not_ready.values()}
    for side, people in (("mentor", roster.mentors), ("mentee", roster.mentees)):
        if not people:
            state = "ready" if side in held else "enrolled"
            raise InvalidInputError(
                f"There are no {side}s {state} yet: matching needs at least one."
            )


def _run_mentoring(
    session: Session,
    roster: Roster,
    kept: list[Match],
    ended: list[Match],
    objective: str,
    say: Progress,
) -> tuple[int, Any]:
    mentee_index = {p.id: i for i, p in enumerate(roster.mentees)}
    mentor_index = {p.id: j for j, p in enumerate(roster.mentors)}

    def indexed(matches: list[Match]) -> list[tuple[int, int]]:
        return [
            (mentee_index[m.mentee_participant_id], mentor_index[m.mentor_participant_id])
            for m in matches
            if m.mentee_participant_id in mentee_index and m.mentor_participant_id in mentor_index
        ]

    fixed = indexed(kept)
    # A mentee in a published or locked pair is not matched again (group mentees have
    # one mentor).
    done = {i for i, _ in fixed}
    rows = [i for i in range(len(roster.mentees)) if i not in done]
    matcher = roster.matcher(mode="assigned", objective=objective)
    try:
        matcher.fit(
            roster.answers(roster.mentees),
            roster.answers(roster.mentors),
            capacities=roster.capacities(),
            excluded=indexed(ended),
            fixed=fixed,
            rows=rows,
        )
    except MatchingError as exc:
        raise InvalidInputError(f"Matching could not run: {exc}") from exc
    result = matcher.result_
    say(f"writing {sum(1 for p in result.pairs if not p.fixed)} draft pairs")
    new_pairs = [pair for pair in result.pairs if not pair.fixed]
    explanations = matcher.explain_pairs(new_pairs) if new_pairs else []
    rows = []
    for pair, explanation in zip(new_pairs, explanations, strict=True):
        mentee, mentor = roster.mentees[pair.mentee], roster.mentors[pair.mentor]
        factors = factor_dicts(explanation.factors)
        if pair.slot is not None:
            factors.insert(0, _slot_factor(pair.slot))
        group = f"mentor-{mentor.id}" if roster.programme.kind == "group" else None
        rows.append(_draft_row(roster, mentor.id, mentee.id, pair.score, factors, group))
    created = _insert_drafts(session, rows)
    return created, result


def _draft_row(
    roster: Roster,
    mentor_id: int,
    mentee_id: int,
    score: float,
    factors: list[dict[str, Any]],
    group_key: str | None,
) -> dict[str, Any]:
    return {
        "tenant_id": roster.programme.tenant_id,
        "programme_id": roster.programme.id,
        "mentor_participant_id": mentor_id,
        "mentee_participant_id": mentee_id,
        "score": float(np.clip(score, 0, 100)),
        "explanation": factors,
        "status": "draft",
        "made_by": "engine",
        "group_key": group_key,
    }


def _insert_drafts(session: Session, rows: list[dict[str, Any]]) -> int:
    """Write draft pairs in one batched INSERT (thousands of rows on a large programme)."""
    if rows:
        session.execute(insert(Match), rows)
    return len(rows)


def _slot_factor(slot: int) -> dict[str, Any]:
    day, hour = divmod(slot, 24)
    return {
        "question": "availability",
        "rule": "slot",
        "points": 0.0,
        "max_points": 0.0,
        "direction": "raised",
        "text": f"a one-off session on {DAYS[day]} at {hour:02d}:00 UTC, when you are both free",
        "hard": False,
        "passed": True,
    }


def _run_peer(
    session: Session, roster: Roster, kept: list[Match], ended: list[Match]
) -> tuple[int, Any]:
    taken = {m.mentee_participant_id for m in kept} | {m.mentor_participant_id for m in kept}
    pool = [p for p in roster.mentees if p.id not in taken]
    index = {p.id: i for i, p in enumerate(pool)}
    excluded = [
        (index[a], index[b])
        for m in ended
        for a, b in (
            (m.mentee_participant_id, m.mentor_participant_id),
            (m.mentor_participant_id, m.mentee_participant_id),
        )
        if a in index and b in index
    ]
    roster_pool = Roster(roster.programme, [], pool, roster.members)
    if len(pool) < 2:
        return 0, MatchResult(
            mode="peer", objective=None, pairs=(), unmatched=(), total=0.0, bound=None, lowest=None
        )
    matcher = roster.matcher()
    try:
        matcher.fit(roster_pool.answers(pool), excluded=excluded)
    except MatchingError as exc:
        raise InvalidInputError(f"Matching could not run: {exc}") from exc
    result = matcher.result_
    groups = result.groups or tuple((p.mentee, p.mentor) for p in result.pairs)
    scores = {(p.mentee, p.mentor): p.score for p in result.pairs}
    members = [
        (number, group[0], other) for number, group in enumerate(groups) for other in group[1:]
    ]
    explanations = matcher.explain_pairs([(other, anchor) for _n, anchor, other in members])
    rows = []
    for (number, anchor, other), explanation in zip(members, explanations, strict=True):
        score = scores.get((anchor, other), scores.get((other, anchor), 0.0))
        key = f"peer-{number}" if len(groups[number]) > 2 else None
        factors = factor_dicts(explanation.factors)
        rows.append(_draft_row(roster, pool[anchor].id, pool[other].id, score, factors, key))
    created = _insert_drafts(session, rows)
    # Map unmatched indices back onto the full pool for reasons.
    full = {p.id: i for i, p in enumerate(roster.mentees)}
    remapped = replace(
        result,
        unmatched=tuple(replace(u, mentee=full[pool[u.mentee].id]) for u in result.unmatched),
    )
    return created, remapped


def explain_one(
    roster: Roster, mentee: Participant, mentor: Participant
) -> tuple[float | None, list[dict[str, Any]]]:
    """Score and explain a single pair the coordinator chose by hand."""
    on = roster.reference_date()
    definition = roster.programme.questionnaire
    scorer = Scorer(to_matching(definition), reverse=roster.programme.kind == "reverse").fit(
        [matching_answers(definition, mentee.answers, on)],
        [matching_answers(definition, mentor.answers, on)],
    )
    explanation = explain_pair(scorer, 0, 0)
    return explanation.score, factor_dicts(explanation.factors)


def assign_pair(
    session: Session, actor: Actor, programme_id: int, mentee_id: int, mentor_id: int
) -> tuple[Match, list[str]]:
    """Override: put a mentee with a mentor in the draft (locked), whatever the engine said.

    Returns the draft match and warnings (each must-match rule the pair breaks).

    Raises:
        ConflictError: the mentee is already in a published pair, or the mentor is full.
    """
    programme = coordinated_programme(session, actor, programme_id)
    mentee = get_participant(session, actor, programme_id, mentee_id)
    mentor = get_participant(session, actor, programme_id, mentor_id)
    expected = ("peer", "peer") if programme.kind == "peer" else ("mentee", "mentor")
    if (mentee.role, mentor.role) != expected or mentee.id == mentor.id:
        raise InvalidInputError(f"Pick a {expected[0]} and a {expected[1]}.")
    if "withdrawn" in (mentee.status, mentor.status):
        raise ConflictError("One of them has withdrawn from the programme.")
    require_ready(session, programme, [mentee, mentor])
    matches = programme_matches(session, programme)
    live = [m for m in matches if m.status in SLOT_HOLDING]
    if any(m.mentee_participant_id == mentee.id for m in live):
        raise ConflictError("This mentee already has a published match.")
    for m in matches:
        if m.status == "draft" and m.mentee_participant_id == mentee.id:
            session.delete(m)
    session.flush()
    if programme.kind != "peer":
        used = sum(
            1
            for m in programme_matches(session, programme)
            if m.mentor_participant_id == mentor.id
            and (m.status in SLOT_HOLDING or m.status == "draft")
        )
        capacity = mentor.capacity or programme.default_capacity
        if used >= capacity:
            raise ConflictError(f"This mentor is full ({used} of {capacity}).")
    # One pair only: an empty roster gives the programme's settings without loading
    # every participant.
    score, factors = explain_one(Roster(programme, [], []), mentee, mentor)
    warnings = [
        f"Breaks a must-match rule: {f['text']}" for f in factors if f["hard"] and not f["passed"]
    ]
    match = Match(
        tenant_id=programme.tenant_id,
        programme_id=programme.id,
        mentor_participant_id=mentor.id,
        mentee_participant_id=mentee.id,
        score=float(np.clip(score or 0.0, 0, 100)),
        explanation=factors,
        status="draft",
        made_by="coordinator",
        locked=True,
        group_key=f"mentor-{mentor.id}" if programme.kind == "group" else None,
    )
    session.add(match)
    session.flush()
    record_event(
        session,
        actor.tenant_id,
        "matching.override",
        actor_member_id=actor.member_id,
        subject=match,
        detail={"mentee": mentee.id, "mentor": mentor.id, "warnings": len(warnings)},
    )
    return match, warnings


def swap_mentors(
    session: Session, actor: Actor, programme_id: int, first_id: int, second_id: int
) -> list[str]:
    """Swap the mentors of two draft pairs; returns must-match warnings for both."""
    coordinated_programme(session, actor, programme_id)
    drafts = {m.id: m for m in _drafts(session, actor, programme_id)}
    if first_id not in drafts or second_id not in drafts or first_id == second_id:
        raise InvalidInputError("Pick two different pairs of the draft.")
    first, second = drafts[first_id], drafts[second_id]
    pairs = [
        (first.mentee_participant_id, second.mentor_participant_id),
        (second.mentee_participant_id, first.mentor_participant_id),
    ]
    session.delete(first)
    session.delete(second)
    session.flush()
    warnings: list[str] = []
    for mentee_id, mentor_id in pairs:
        _match, found = assign_pair(session, actor, programme_id, mentee_id, mentor_id)
        warnings.extend(found)
    return warnings


def _drafts(session: Session, actor: Actor, programme_id: int) -> list[Match]:
    programme = coordinated_programme(session, actor, programme_id)
    return [m for m in programme_matches(session, programme) if m.status == "draft"]


def set_locked(
    session: Session, actor: Actor, programme_id: int, match_id: int, locked: bool
) -> Match:
    """Lock a draft pair so a re-run keeps it, or unlock it."""
    match = next((m for m in _drafts(session, actor, programme_id) if m.id == match_id), None)
    if match is None:
        raise InvalidInputError("Only pairs in the draft can be locked or unlocked.")
    match.locked = locked
    record_event(
        session,
        actor.tenant_id,
        "matching.lock" if locked else "matching.unlock",
        actor_member_id=actor.member_id,
        subject=match,
    )
    return match


def remove_pair(session: Session, actor: Actor, programme_id: int, match_id: int) -> None:
    """Take a pair out of the draft; the mentee goes back to the pool."""
    match = next((m for m in _drafts(session, actor, programme_id) if m.id == match_id), None)
    if match is None:
        raise InvalidInputError("Only pairs in the draft can be removed.")
    record_event(
        session, actor.tenant_id, "matching.remove", actor_member_id=actor.member_id, subject=match
    )
    session.delete(match)
    session.flush()


def publish(session: Session, actor: Actor, programme_id: int) -> int:
    """Propose every draft pair to both sides; returns how many were published.

    All or nothing: if a mentor's capacity would be exceeded, nothing is published. Both
    sides of each pair are mailed (a job queued in this transaction, :mod:`.notices`).

    Raises:
        ConflictError: the draft is empty, or a mentor has no free slot left.
    """
    programme = coordinated_programme(session, actor, programme_id)
    drafts = [m for m in programme_matches(session, programme) if m.status == "draft"]
    if not drafts:
        raise ConflictError("The draft is empty: run matching (or add pairs) before publishing.")
    now = utcnow()
    respond_days = int((programme.settings or {}).get("response_days", 7))
    mentor_ids = {m.mentor_participant_id for m in drafts}
    mentors = {
        p.id: p
        for p in session.scalars(
            select(Participant).where(
                Participant.tenant_id == programme.tenant_id, Participant.id.in_(mentor_ids)
            )
        )
    }
    for match in drafts:
        take_slot(session, mentors[match.mentor_participant_id])
        match.status, match.published_at = "proposed", now
        match.respond_by = now + timedelta(days=respond_days)
        match.locked = False
    programme.status = "running"
    record_event(
        session,
        actor.tenant_id,
        "matching.publish",
        actor_member_id=actor.member_id,
        subject=programme,
        detail={"published": len(drafts)},
    )
    session.flush()
    # Everyone with a proposal hears of it now, not at the next daily reminder run.
    tell(session, programme.tenant_id, "match_proposed", [m.id for m in drafts])
    return len(drafts)
