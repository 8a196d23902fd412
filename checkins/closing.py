"""Ending a pair: completed, or early with a reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from records import Match, utcnow

from . import audit
from .agreements import end_learning_history_consent
from .errors import InvalidInput
from .milestones import award_milestones
from .pairs import get_match, pair_side, require_running
from .progress import ProgressPoster, post_pair_milestone

OUTCOMES = ("completed", "early")
MAX_REASON = 1000


def end_outcome(match: Match | None = None, *, end_reason: str | None = None) -> str | None:
    """``completed`` or ``early`` for a closed pair, read from its end reason."""
    reason = end_reason if match is None else match.end_reason
    if not reason:
        return None
    return "completed" if reason == "completed" else "early" if reason.startswith("early") else None


def close_pair(
    session: Session,
    tenant_id: int,
    match_id: int,
    member_id: int,
    outcome: str,
    reason: str = "",
    *,
    coordinator: bool = False,
    now: datetime | None = None,
    poster: ProgressPoster | None = None,
) -> Match:
    """Close a running pair, by one of the pair or (``coordinator=True``) the coordinator.

    ``end_reason`` records the outcome: ``completed``, or ``early: <reason>``. Both then
    see the end evaluation. A completed pair's "programme completed" milestone goes to the
    gradebook through ``poster`` (the web layer's AGS service) when the programme has a
    line item.

    Raises:
        InvalidInput: an unknown outcome, or an early end without a reason.
        PairNotRunning, NotFound, NotAllowed: not a running pair the member may close.
    """
    match = (
        get_match(session, tenant_id, match_id)
        if coordinator
        else pair_side(session, tenant_id, match_id, member_id).match
    )
    require_running(match)
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome {outcome!r}; need one of {', '.join(OUTCOMES)}")
    reason = reason.strip()
    if outcome == "early" and not reason:
        raise InvalidInput("say why the pair ends early (the coordinator sees it, not your notes)")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is over {MAX_REASON} characters")
    match.status = "closed"
    match.ended_at = now or utcnow()
    match.end_reason = "completed" if outcome == "completed" else f"early: {reason}"
    end_learning_history_consent(session, tenant_id, match.id)
    session.flush()
    reached = award_milestones(session, tenant_id, match, now=match.ended_at)
    post_pair_milestone(session, tenant_id, match, poster, "completed", reached)
    audit.record(
        session, tenant_id, "match.closed",
        actor_member_id=member_id, subject_type="Match", subject_id=match.id,
        detail={"outcome": outcome, "by": "coordinator" if coordinator else "member"},
    )  # fmt: skip
    return match
