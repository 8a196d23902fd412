"""Alerts for coordinators: quiet and at-risk pairs, members' flags, and re-matching."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Alert, Match, Participant, Programme, utcnow

from . import audit
from .agreements import end_learning_history_consent
from .errors import Conflict, InvalidInput, NotFound, NotInProgramme, PairNotRunning
from .health import PairState, pair_states
from .pairs import get_match, get_programme, pair_side

MAX_REASON = 1000


def _open_alerts(session: Session, tenant_id: int, programme_id: int) -> list[Alert]:
    return list(
        session.scalars(
            select(Alert)
            .where(
                Alert.tenant_id == tenant_id,
                Alert.programme_id == programme_id,
                Alert.status == "open",
            )
            .order_by(Alert.raised_at.desc(), Alert.id.desc())
        )
    )


def open_alerts(session: Session, tenant_id: int, programme_id: int) -> list[Alert]:
    """The programme's open alerts, newest first (for the coordinator)."""
    get_programme(session, tenant_id, programme_id)
    return _open_alerts(session, tenant_id, programme_id)


def _wanted(state: PairState) -> list[tuple[str, dict]]:
    wanted: list[tuple[str, dict]] = []
    if state.quiet:
        wanted.append(
            ("quiet_pair", {"due_on": state.due_on.isoformat() if state.due_on else None})
        )
    for risk in state.risks:
        if risk.endswith("survey unanswered"):
            wanted.append(("unanswered_survey", {"survey": risk.split()[0]}))
        else:
            wanted.append(("at_risk", {"reason": risk}))
    return wanted


def raise_alerts(
    session: Session, tenant_id: int, programme_id: int, today: date | None = None
) -> list[Alert]:
    """Open an alert for each quiet or at-risk pair that has none open of that kind.

    Safe to run again and again (``tandem remind`` runs it): an open alert is not
    duplicated, and a quiet alert stays resolved once a check-in resolved it until the
    pair goes quiet again.
    """
    programme = get_programme(session, tenant_id, programme_id)
    today = today or utcnow().date()
    existing = {
        (a.match_id, a.kind, a.detail.get("survey"))
        for a in _open_alerts(session, tenant_id, programme_id)
    }
    raised = []
    for state in pair_states(session, tenant_id, programme, today):
        for kind, detail in _wanted(state):
            key = (state.match_id, kind, detail.get("survey"))
            if key in existing:
                continue
            alert = Alert(
                tenant_id=tenant_id,
                programme_id=programme_id,
                match_id=state.match_id,
                kind=kind,
                detail=detail,
            )
            session.add(alert)
            session.flush()
            audit.record(
                session, tenant_id, "alert.raised",
                actor_member_id=None, subject_type="Alert", subject_id=alert.id,
                detail={"kind": kind, "match_id": state.match_id},
            )  # fmt: skip
            existing.add(key)
            raised.append(alert)
    return raised


def flag_pair(
    session: Session, tenant_id: int, match_id: int, member_id: int, reason: str
) -> Alert:
    """ "I can't reach my mentor / this isn't working": a private alert to the coordinator.

    The partner is not told; the reason is for the coordinator only.

    Raises:
        InvalidInput: an empty or overlong reason.
        NotFound, NotAllowed: not the member's pair.
    """
    side = pair_side(session, tenant_id, match_id, member_id)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say briefly what is wrong, so that the coordinator can help")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is over {MAX_REASON} characters")
    alert = Alert(
        tenant_id=tenant_id,
        programme_id=side.match.programme_id,
        match_id=match_id,
        raised_by_member_id=member_id,
        kind="member_flag",
        detail={"reason": reason, "side": side.role},
    )
    session.add(alert)
    session.flush()
    audit.record(
        session, tenant_id, "alert.flagged",
        actor_member_id=member_id, subject_type="Alert", subject_id=alert.id,
        detail={"match_id": match_id, "side": side.role},
    )  # fmt: skip
    return alert


def resolve_alert(
    session: Session,
    tenant_id: int,
    alert_id: int,
    coordinator_member_id: int | None,
    *,
    programme_id: int,
) -> Alert:
    """Mark an alert of ``programme_id`` dealt with.

    The caller has checked that the coordinator may act on ``programme_id``
    (:func:`programmes.resolve_alert`); this checks that the alert is that programme's.

    Raises:
        NotFound: no such alert in this tenant.
        NotInProgramme: the alert is another programme's.
        Conflict: it is resolved already.
    """
    alert = session.scalars(
        select(Alert).where(Alert.id == alert_id, Alert.tenant_id == tenant_id)
    ).first()
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist")
    if alert.programme_id != programme_id:
        raise NotInProgramme(f"alert {alert_id} is not one of programme {programme_id}'s")
    if alert.status == "resolved":
        raise Conflict("this alert is resolved already")
    alert.status = "resolved"
    alert.resolved_at = utcnow()
    audit.record(
        session, tenant_id, "alert.resolved",
        actor_member_id=coordinator_member_id, subject_type="Alert", subject_id=alert.id,
        detail={"kind": alert.kind},
    )  # fmt: skip
    return alert


def rematch_pair(
    session: Session,
    tenant_id: int,
    match_id: int,
    coordinator_member_id: int | None,
    *,
    programme_id: int,
    reason: str,
    now: datetime | None = None,
) -> Match:
    """End a pair as ``rematched`` and put the mentee back in the pool.

    The match row stays, with status ``rematched``: that is the record the next matching
    run reads (:func:`excluded_pairs`) so the same two are not paired again. The mentor's
    slot is freed; the pair's open alerts are resolved, and the mentee's consent to
    share their learning history ends with the pair.

    The caller has checked that the coordinator may act on ``programme_id``
    (:func:`programmes.rematch_pair`); this checks that the match is that programme's.

    Raises:
        InvalidInput: no reason given.
        PairNotRunning: the match is not proposed, accepted or active.
        NotFound: not this tenant's match.
        NotInProgramme: the match is another programme's.
    """
    match = get_match(session, tenant_id, match_id, programme_id=programme_id)
    if match.status not in ("proposed", "accepted", "active"):
        raise PairNotRunning(f"match {match_id} is {match.status}; it cannot be re-matched")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("give a reason for the re-match (kept in the audit trail)")
    now = now or utcnow()
    match.status = "rematched"
    match.ended_at = now
    match.end_reason = f"rematched: {reason[:MAX_REASON]}"
    mentee = session.get(Participant, match.mentee_participant_id)
    mentor = session.get(Participant, match.mentor_participant_id)
    assert mentee is not None and mentor is not None
    mentee.status = "enrolled"
    if mentor.slots_taken > 0:
        mentor.slots_taken -= 1
    for alert in session.scalars(
        select(Alert).where(
            Alert.tenant_id == tenant_id, Alert.match_id == match_id, Alert.status == "open"
        )
    ):
        alert.status = "resolved"
        alert.resolved_at = now
    end_learning_history_consent(session, tenant_id, match.id)
    session.flush()
    audit.record(
        session, tenant_id, "match.rematched",
        actor_member_id=coordinator_member_id, subject_type="Match", subject_id=match.id,
        detail={"mentee_participant_id": mentee.id, "mentor_participant_id": mentor.id},
    )  # fmt: skip
    return match


def excluded_pairs(session: Session, tenant_id: int, programme_id: int) -> set[tuple[int, int]]:
    """(mentor participant, mentee participant) pairs that must not be matched again."""
    return {
        (mentor, mentee)
        for mentor, mentee in session.execute(
            select(Match.mentor_participant_id, Match.mentee_participant_id).where(
                Match.tenant_id == tenant_id,
                Match.programme_id == programme_id,
                Match.status == "rematched",
            )
        )
    }


def raise_alerts_everywhere(session: Session, today: date | None = None) -> int:
    """:func:`raise_alerts` for every running programme of every tenant (``tandem remind``,
    from cron); returns how many alerts were opened."""
    opened = 0
    for tenant_id, programme_id in session.execute(
        select(Programme.tenant_id, Programme.id)
        .where(Programme.status == "running")
        .order_by(Programme.id)
    ).all():
        opened += len(raise_alerts(session, tenant_id, programme_id, today))
    return opened
