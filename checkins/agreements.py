"""The pair's agreement: goals, meeting frequency, channel, boundaries, both signatures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Agreement, utcnow

from . import audit
from .errors import AlreadySigned, Conflict, InvalidInput, NotAllowed
from .milestones import award_milestones
from .pairs import pair_side, require_running
from .progress import ProgressPoster, post_milestone

MAX_GOALS = 5


@dataclass(frozen=True)
class AgreementDraft:
    """What the pair writes down. Each goal is ``{"goal": text, "by": date}``."""

    goals: list[dict[str, Any]]
    meeting_frequency: str
    channel: str
    confidentiality: str
    out_of_scope: str


def get_agreement(
    session: Session, tenant_id: int, match_id: int, member_id: int
) -> Agreement | None:
    """The pair's agreement, or ``None`` before either wrote one.

    Raises:
        NotFound, NotAllowed: see :func:`~checkins.pairs.pair_side`.
    """
    pair_side(session, tenant_id, match_id, member_id)
    return _agreement(session, tenant_id, match_id)


def _agreement(session: Session, tenant_id: int, match_id: int) -> Agreement | None:
    return session.scalars(
        select(Agreement).where(Agreement.tenant_id == tenant_id, Agreement.match_id == match_id)
    ).first()


def is_signed(agreement: Agreement | None) -> bool:
    """Both sides have signed."""
    return bool(agreement and agreement.mentor_signed_at and agreement.mentee_signed_at)


def _clean_goals(goals: list[dict[str, Any]], today: date) -> list[dict[str, str]]:
    cleaned = []
    for number, goal in enumerate(goals, start=1):
        text = str(goal.get("goal", "")).strip()
        by = goal.get("by") or None
        if not text and not by:
            continue
        if not text:
            raise InvalidInput(f"goal {number} has a date but no text: say what you aim for")
        if len(text) > 500:
            raise InvalidInput(f"goal {number} is {len(text)} characters; keep it under 500")
        if isinstance(by, str):
            try:
                by = date.fromisoformat(by)
            except ValueError:
                raise InvalidInput(f"goal {number}: {by!r} is not a date (YYYY-MM-DD)") from None
        if not isinstance(by, date):
            raise InvalidInput(f"goal {number} needs a date to reach it by (time-bound goals)")
        if by < today:
            raise InvalidInput(f"goal {number}'s date {by.isoformat()} is in the past")
        cleaned.append({"goal": text, "by": by.isoformat()})
    if not cleaned:
        raise InvalidInput("write down at least one goal, with a date to reach it by")
    if len(cleaned) > MAX_GOALS:
        raise InvalidInput(f"{len(cleaned)} goals; agree on at most {MAX_GOALS}")
    return cleaned


def save_agreement(
    session: Session,
    tenant_id: int,
    match_id: int,
    member_id: int,
    draft: AgreementDraft,
    *,
    today: date | None = None,
) -> Agreement:
    """Write or change the pair's agreement. A change clears signatures given so far.

    Raises:
        InvalidInput: no goal, a goal without a date or with a past one, empty fields.
        Conflict: both have signed; a signed agreement is not changed.
        PairNotRunning: the match is not accepted or active.
        NotFound, NotAllowed: not the member's pair.
    """
    side = pair_side(session, tenant_id, match_id, member_id)
    require_running(side.match)
    today = today or utcnow().date()
    goals = _clean_goals(draft.goals, today)
    fields = {
        "meeting_frequency": draft.meeting_frequency.strip(),
        "channel": draft.channel.strip(),
    }
    for name, value in fields.items():
        if not value:
            raise InvalidInput(f"{name.replace('_', ' ')} is empty: agree on it before signing")
        if len(value) > 200:
            raise InvalidInput(f"{name.replace('_', ' ')} is over 200 characters")
    boundaries = (
        f"Confidentiality: {draft.confidentiality.strip()}\n"
        f"Out of scope: {draft.out_of_scope.strip()}"
    )
    agreement = _agreement(session, tenant_id, match_id)
    if is_signed(agreement):
        raise Conflict("both of you have signed this agreement; it can no longer be changed")
    if agreement is None:
        agreement = Agreement(tenant_id=tenant_id, match_id=match_id)
        session.add(agreement)
    agreement.goals = goals
    agreement.meeting_frequency = fields["meeting_frequency"]
    agreement.channel = fields["channel"]
    agreement.boundaries = boundaries
    # The other side signed a different text: they must see and sign this one.
    agreement.mentor_signed_at = None
    agreement.mentee_signed_at = None
    session.flush()
    audit.record(
        session, tenant_id, "agreement.saved",
        actor_member_id=member_id, subject_type="Agreement", subject_id=agreement.id,
        detail={"match_id": match_id, "n_goals": len(goals)},
    )  # fmt: skip
    return agreement


def parse_boundaries(agreement: Agreement) -> dict[str, str]:
    """Split the stored boundaries back into confidentiality and out-of-scope."""
    parts = {"confidentiality": "", "out_of_scope": ""}
    for line in (agreement.boundaries or "").splitlines():
        if line.startswith("Confidentiality: "):
            parts["confidentiality"] = line.removeprefix("Confidentiality: ")
        elif line.startswith("Out of scope: "):
            parts["out_of_scope"] = line.removeprefix("Out of scope: ")
    return parts


def sign_agreement(
    session: Session,
    tenant_id: int,
    match_id: int,
    member_id: int,
    *,
    now: datetime | None = None,
    poster: ProgressPoster | None = None,
) -> Agreement:
    """Sign the agreement for the member's side; the second signature makes the pair active.

    Raises:
        Conflict: no agreement has been written yet.
        AlreadySigned: this side signed already.
        PairNotRunning, NotFound, NotAllowed: as for :func:`save_agreement`.
    """
    side = pair_side(session, tenant_id, match_id, member_id)
    require_running(side.match)
    agreement = _agreement(session, tenant_id, match_id)
    if agreement is None:
        raise Conflict("there is no agreement to sign yet: write the goals first")
    now = now or utcnow()
    attribute = "mentor_signed_at" if side.role == "mentor" else "mentee_signed_at"
    if getattr(agreement, attribute) is not None:
        raise AlreadySigned(
            f"you signed this agreement on {getattr(agreement, attribute):%d %B %Y}"
        )
    setattr(agreement, attribute, now)
    audit.record(
        session, tenant_id, "agreement.signed",
        actor_member_id=member_id, subject_type="Agreement", subject_id=agreement.id,
        detail={"match_id": match_id, "side": side.role},
    )  # fmt: skip
    if is_signed(agreement):
        match = side.match
        if match.status == "accepted":
            match.status = "active"
            match.started_at = match.started_at or now
            audit.record(
                session, tenant_id, "match.activated",
                actor_member_id=member_id, subject_type="Match", subject_id=match.id,
                detail={"by": "agreement"},
            )  # fmt: skip
        session.flush()
        reached = award_milestones(session, tenant_id, match, now=now)
        post_milestone(
            session, tenant_id, match, [side.me, side.partner], poster, "agreement", reached
        )
    session.flush()
    return agreement


def set_learning_history_consent(
    session: Session, tenant_id: int, match_id: int, member_id: int, share: bool
) -> Agreement:
    """The mentee's consent to show their learning history to their mentor.

    Raises:
        NotAllowed: the member is the mentor; only the mentee can consent.
        Conflict: no agreement written yet.
    """
    side = pair_side(session, tenant_id, match_id, member_id)
    if side.role != "mentee":
        raise NotAllowed("only the mentee can decide who sees their learning history")
    if share:
        # Consent lives and dies with the pair: a closed or re-matched pair cannot
        # re-open it (withdrawing is always allowed).
        require_running(side.match)
    agreement = _agreement(session, tenant_id, match_id)
    if agreement is None:
        raise Conflict("there is no agreement yet: write the goals first")
    if agreement.share_learning_history != share:
        agreement.share_learning_history = share
        audit.record(
            session, tenant_id, "agreement.learning_history_consent",
            actor_member_id=member_id, subject_type="Agreement", subject_id=agreement.id,
            detail={"match_id": match_id, "share": share},
        )  # fmt: skip
    session.flush()
    return agreement


def end_learning_history_consent(session: Session, tenant_id: int, match_id: int) -> None:
    """The pair has ended (closed or re-matched): the mentee's consent ends with it.

    Called by every path that ends a pair, so that a former mentor loses the mentee's
    learning history at once; the mentee would have to consent again in a new pair.
    """
    agreement = _agreement(session, tenant_id, match_id)
    if agreement is not None and agreement.share_learning_history:
        agreement.share_learning_history = False
        audit.record(
            session, tenant_id, "agreement.learning_history_consent",
            actor_member_id=None, subject_type="Agreement", subject_id=agreement.id,
            detail={"match_id": match_id, "share": False, "because": "pair_ended"},
        )  # fmt: skip
