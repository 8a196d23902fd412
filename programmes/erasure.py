"""Erasing a member's data, and members' requests for it.

Erasure is one function, :func:`erase_member`, that the ``tandem member erase`` command and
the institution administrator's "Erase" button both call, inside the caller's one
transaction. What only concerns the person goes (identities, enrolments, learning records,
answers, what they wrote, reminders, their sessions and links); what others need stays,
de-identified: the member row is kept as "a former member" so that the partner's history,
the programme's counts and the evaluation's anonymous rows still add up.

Lives in ``programmes`` rather than ``members`` because ending a running pair frees a
mentor's place and declines open proposals, which are ``programmes``' rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, or_, select
from sqlalchemy.orm import Session

from members import end_member_sessions
from records import (
    Agreement,
    Alert,
    AuditEvent,
    CheckIn,
    Enrolment,
    ErasureRequest,
    ExpiringValue,
    Identity,
    LearningRecord,
    Match,
    Member,
    Participant,
    Programme,
    SentReminder,
    SurveyResponse,
    SyncRun,
    record_event,
    utcnow,
)

from .access import Actor, coordinated_programme
from .decisions import free_slot, release_open_matches
from .errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError

# What a scrubbed value in an audit row, sync error or alert reads.
ERASED = "[erased]"
RUNNING = ("accepted", "active")
# How an ended pair's reason reads: "early: ..." so that the early-end figures count it.
END_REASON = "early: one member's data was erased"
MAX_NOTE = 1000


class AlreadyErasedError(ConflictError):
    """The member's data was erased already: erasing again changes nothing."""


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure removed or de-identified, by table (rows), and the pairs it ended."""

    member_id: int
    counts: dict[str, int]
    ended_matches: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class PendingRequest:
    """An erasure request waiting for an operator or institution administrator."""

    id: int
    member_id: int
    member_name: str
    requested_at: datetime
    coordinator_note: str


def parse_source(value: str) -> tuple[str, str]:
    """``moodle:42`` -> ``("moodle", "42")``.

    Raises:
        InvalidInputError: not ``SOURCE:ID``.
    """
    source, sep, external_id = value.partition(":")
    if not sep or not source.strip() or not external_id.strip():
        raise InvalidInputError(f"--source {value!r} is not SOURCE:ID (for example moodle:42)")
    return source.strip(), external_id.strip()


def find_member_to_erase(
    session: Session, tenant_id: int, *, member_id: int | None = None, source: str | None = None
) -> Member:
    """The tenant's member with this id, or with this ``SOURCE:ID`` identity.

    Raises:
        NotFoundError: no such member in this tenant (another tenant's member included).
        InvalidInputError: a malformed ``source``, or neither or both given.
    """
    if (member_id is None) == (source is None):
        raise InvalidInputError("give a member id or --source SOURCE:ID (one of them)")
    if source is not None:
        src, external_id = parse_source(source)
        found = session.scalars(
            select(Identity.member_id).where(
                Identity.tenant_id == tenant_id,
                Identity.source == src,
                Identity.external_id == external_id,
            )
        ).first()
        if found is None:
            raise NotFoundError(f"no member with identity {src}:{external_id} in this tenant")
        member_id = found
    member = session.scalars(
        select(Member).where(Member.tenant_id == tenant_id, Member.id == member_id)
    ).first()
    if member is None:
        raise NotFoundError(f"no member {member_id} in this tenant")
    return member


class _Needles:
    """The strings that identify one person, and how to find and blank them in JSON.

    ``words`` are found inside any text (case-insensitive): name, email, member number,
    ``source:id``. ``exact`` are matched as whole values only: an LMS user id like ``42``
    is an identifier as a value, not as a part of another number.
    """

    def __init__(self, member: Member, identities: Iterable[Identity]) -> None:
        words = {
            member.display_name,
            f"{member.given_name} {member.family_name}".strip(),
            member.email or "",
            member.member_number or "",
        }
        exact = {member.member_number or "", member.email or ""}
        for identity in identities:
            words.add(f"{identity.source}:{identity.external_id}")
            exact.add(identity.external_id)
        # Very short strings would blank unrelated text.
        self.words = sorted(w.lower() for w in words if len(w.strip()) >= 3)
        self.exact = sorted(e.lower() for e in exact if e.strip())

    def patterns(self) -> list[str]:
        """LIKE fragments for a first, coarse filter in SQL (JSON may escape non-ASCII)."""
        found: set[str] = set()
        for word in self.words:
            found.update({word, json.dumps(word)[1:-1]})
        for value in self.exact:
            found.add(json.dumps(value))
        return sorted(found)

    def hit(self, text: str) -> bool:
        low = text.lower()
        return low in self.exact or any(word in low for word in self.words)

    def scrub(self, value: Any) -> tuple[Any, bool]:
        """``value`` with every string that names the person replaced; and whether any was."""
        if isinstance(value, str):
            return (ERASED, True) if self.hit(value) else (value, False)
        if isinstance(value, list):
            pairs = [self.scrub(v) for v in value]
            return [v for v, _ in pairs], any(c for _, c in pairs)
        if isinstance(value, dict):
            out, changed = {}, False
            for key, item in value.items():
                out[key], hit = self.scrub(item)
                changed = changed or hit
            return out, changed
        return value, False


def _text_matches(column: Any, needles: _Needles) -> Any:
    text = cast(column, Text)
    return or_(*(text.icontains(p, autoescape=True) for p in needles.patterns()))


def _end_pair(session: Session, match: Match, erased: Participant, now: datetime) -> None:
    """End a running pair because one side is erased; tell the programme's coordinators."""
    mentor = session.get(Participant, match.mentor_participant_id)
    mentee = session.get(Participant, match.mentee_participant_id)
    assert mentor is not None and mentee is not None  # the foreign keys guarantee it
    match.status, match.ended_at, match.end_reason = "closed", now, END_REASON
    free_slot(session, mentor)
    partner = mentor if erased.id == mentee.id else mentee
    if partner.role == "mentee":
        # Back in the pool for the next matching run.
        partner.status = "enrolled"
    session.add(
        Alert(
            tenant_id=match.tenant_id,
            programme_id=match.programme_id,
            match_id=match.id,
            kind="member_erased",
            detail={"partner_side": partner.role, "reason": "the other side's data was erased"},
            raised_at=now,
        )
    )


def erase_member(
    session: Session,
    tenant_id: int,
    member_id: int,
    *,
    operator: str,
    actor_member_id: int | None = None,
    now: datetime | None = None,
) -> ErasureResult:
    """Erase one member's data, irreversibly, in the caller's transaction.

    Running pairs end first (the partner's coordinator gets a ``member_erased`` alert),
    open proposals are declined and drafts dropped. Then: identities, enrolments,
    learning records and sent reminders are deleted; answers, check-in summaries the
    member wrote, the pair's private notes, agreement texts, survey comments, flag
    reasons and match explanations are emptied; audit rows, sync errors and short-lived
    values that name them are scrubbed; the member row keeps its id as "a former
    member". One audit row names the member id and ``operator``, never the person.

    Raises:
        NotFoundError: no such member in this tenant.
        AlreadyErasedError: erased before (nothing is changed).
    """
    member = session.scalars(
        select(Member).where(Member.tenant_id == tenant_id, Member.id == member_id)
    ).first()
    if member is None:
        raise NotFoundError(f"no member {member_id} in this tenant")
    if member.erased_at is not None:
        raise AlreadyErasedError(
            f"member {member_id} was erased on {member.erased_at:%Y-%m-%d}; nothing left to erase"
        )
    now = now or utcnow()
    counts: dict[str, int] = {}

    def count(table: str, n: int) -> None:
        if n:
            counts[table] = counts.get(table, 0) + n

    identities = session.scalars(
        select(Identity).where(Identity.tenant_id == tenant_id, Identity.member_id == member_id)
    ).all()
    needles = _Needles(member, identities)

    # Pairs first: end the running ones, decline proposals, drop drafts.
    participants = session.scalars(
        select(Participant).where(
            Participant.tenant_id == tenant_id, Participant.member_id == member_id
        )
    ).all()
    part_ids = [p.id for p in participants]
    side = or_(Match.mentor_participant_id.in_(part_ids), Match.mentee_participant_id.in_(part_ids))
    # Every match of theirs is touched: drafts dropped, proposals declined, running pairs
    # ended, and each explanation (built from their answers) emptied.
    if part_ids:
        count("matches", len(session.scalars(
            select(Match.id).where(Match.tenant_id == tenant_id, side)).all()))  # fmt: skip
    for participant in participants:
        release_open_matches(session, participant, reason=END_REASON)
    session.flush()
    matches = (
        session.scalars(select(Match).where(Match.tenant_id == tenant_id, side)).all()
        if part_ids
        else []
    )
    by_id = {p.id: p for p in participants}
    ended: list[int] = []
    for match in matches:
        if match.status in RUNNING:
            mine = by_id.get(match.mentee_participant_id) or by_id[match.mentor_participant_id]
            _end_pair(session, match, mine, now)
            ended.append(match.id)
        match.explanation = []
        if match.end_reason and ":" in match.end_reason and match.end_reason != END_REASON:
            # "early: <their words>" keeps its outcome for the figures, not the words.
            match.end_reason = match.end_reason.split(":", 1)[0] + ": " + ERASED
    for participant in participants:
        # Out of every pool still open (no match day or mentee choice picks a former
        # member); a closed programme's rows keep their status, so its figures stay.
        programme = session.get(Programme, participant.programme_id)
        still_open = programme is not None and programme.status != "closed"
        if still_open and participant.status != "withdrawn":
            participant.status, participant.withdrawn_at = "withdrawn", now
        participant.answers = {}
    count("participants", len(participants))

    match_ids = [m.id for m in matches]
    if match_ids:
        for checkin in session.scalars(
            select(CheckIn).where(CheckIn.tenant_id == tenant_id, CheckIn.match_id.in_(match_ids))
        ):
            mine = checkin.logged_by_participant_id in by_id
            if checkin.private_notes or (mine and checkin.summary):
                # The pair's private notes go whoever wrote them: they are about both.
                checkin.private_notes = ""
                if mine:
                    checkin.summary = ""
                count("checkins", 1)
        for agreement in session.scalars(
            select(Agreement).where(
                Agreement.tenant_id == tenant_id, Agreement.match_id.in_(match_ids)
            )
        ):
            agreement.goals, agreement.boundaries = [], ""
            agreement.meeting_frequency = agreement.channel = ""
            count("agreements", 1)
    if part_ids:
        for response in session.scalars(
            select(SurveyResponse).where(
                SurveyResponse.tenant_id == tenant_id,
                SurveyResponse.participant_id.in_(part_ids),
                SurveyResponse.comment != "",
            )
        ):
            # The ratings stay: the evaluation keeps its anonymous rows.
            response.comment = ""
            count("survey_responses", 1)
    for alert in session.scalars(
        select(Alert).where(
            Alert.tenant_id == tenant_id,
            or_(Alert.raised_by_member_id == member_id, _text_matches(Alert.detail, needles)),
        )
    ):
        if alert.raised_by_member_id == member_id:
            alert.raised_by_member_id = None
            alert.detail = {k: v for k, v in alert.detail.items() if k != "reason"}
        alert.detail, _ = needles.scrub(alert.detail)
        count("alerts", 1)

    for model in (Identity, Enrolment, LearningRecord):
        count(
            model.__tablename__,
            session.execute(
                delete(model).where(model.tenant_id == tenant_id, model.member_id == member_id)
            ).rowcount,
        )
    count(
        "sent_reminders",
        session.execute(
            delete(SentReminder).where(
                SentReminder.tenant_id == tenant_id,
                SentReminder.recipient_member_id == member_id,
            )
        ).rowcount,
    )
    for request in session.scalars(
        select(ErasureRequest).where(
            ErasureRequest.tenant_id == tenant_id,
            or_(
                ErasureRequest.member_id == member_id,
                ErasureRequest.noted_by_member_id == member_id,
            ),
        )
    ):
        if request.member_id == member_id:
            request.coordinator_note = ""
            if request.status == "pending":
                request.status, request.done_at = "done", now
        if request.noted_by_member_id == member_id:
            request.noted_by_member_id = None
        count("erasure_requests", 1)

    count("audit_events", _scrub_audit(session, tenant_id, member_id, needles))
    for run in session.scalars(
        select(SyncRun).where(
            SyncRun.tenant_id == tenant_id,
            or_(_text_matches(SyncRun.errors, needles), _text_matches(SyncRun.message, needles)),
        )
    ):
        run.errors, _ = needles.scrub(run.errors)
        if run.message:
            run.message, _ = needles.scrub(run.message)
        count("sync_runs", 1)
    # Their sessions end at once, on every browser (members.sessions keys them by member),
    # and every other stored value that names them goes too.
    signed_out = end_member_sessions(session, tenant_id, member_id)
    count("expiring_values", signed_out + _drop_values(session, tenant_id, member_id, needles))

    member.given_name = member.family_name = member.display_name = ""
    member.email = member.picture_url = member.member_number = member.time_zone = None
    member.locale = None
    member.profile = {}
    member.active, member.erased_at = False, now
    member.deactivated_at = member.deactivated_at or now
    count("members", 1)
    session.flush()
    record_event(
        session, tenant_id, "member.erased",
        actor_member_id=actor_member_id, subject=("Member", member_id),
        detail={"operator": operator, "rows": sum(counts.values()), "ended_pairs": len(ended)},
    )  # fmt: skip
    return ErasureResult(member_id=member_id, counts=counts, ended_matches=tuple(ended))


def _scrub_audit(session: Session, tenant_id: int, member_id: int, needles: _Needles) -> int:
    """Blank what names the person in the tenant's audit rows; the rows themselves stay."""
    about = AuditEvent.subject_type.in_(("Member", "member")) & (
        AuditEvent.subject_id == str(member_id)
    )
    changed = 0
    for event in session.scalars(
        select(AuditEvent).where(
            AuditEvent.tenant_id == tenant_id,
            or_(
                AuditEvent.actor_member_id == member_id,
                about,
                _text_matches(AuditEvent.detail, needles),
                _text_matches(AuditEvent.subject_id, needles),
            ),
        )
    ):
        detail, hit = needles.scrub(event.detail)
        subject_id, subject_hit = needles.scrub(event.subject_id or "")
        if hit:
            event.detail = detail
        if subject_hit:
            event.subject_id = subject_id
        if event.remote_addr is not None:
            event.remote_addr = None
            hit = True
        changed += bool(hit or subject_hit)
    return changed


def _drop_values(session: Session, tenant_id: int, member_id: int, needles: _Needles) -> int:
    """Delete sessions, launch data and sign-in links that belong to or name the person."""
    mine = cast(ExpiringValue.value, Text).contains(f'"member_id": {member_id}', autoescape=True)
    dropped = 0
    for row in session.scalars(
        select(ExpiringValue).where(or_(mine, _text_matches(ExpiringValue.value, needles)))
    ):
        value = row.value or {}
        owned = value.get("member_id") == member_id and value.get("tenant_id") == tenant_id
        if owned or needles.scrub(value)[1]:
            session.delete(row)
            dropped += 1
    return dropped


# --- requests -------------------------------------------------------------------------


def request_erasure(session: Session, tenant_id: int, member_id: int) -> ErasureRequest:
    """A member asks for their data to be erased; asking again returns the open request.

    Raises:
        NotFoundError: no such member in this tenant.
        AlreadyErasedError: the member was erased already.
    """
    member = find_member_to_erase(session, tenant_id, member_id=member_id)
    if member.erased_at is not None:
        raise AlreadyErasedError("this member's data was erased already")
    pending = session.scalars(
        select(ErasureRequest).where(
            ErasureRequest.tenant_id == tenant_id,
            ErasureRequest.member_id == member_id,
            ErasureRequest.status == "pending",
        )
    ).first()
    if pending is not None:
        return pending
    request = ErasureRequest(tenant_id=tenant_id, member_id=member_id)
    session.add(request)
    session.flush()
    record_event(
        session, tenant_id, "erasure.requested", actor_member_id=member_id, subject=request
    )
    return request


def pending_requests(
    session: Session, tenant_id: int, *, programme_id: int | None = None
) -> list[PendingRequest]:
    """Pending erasure requests of the tenant, or of one programme's participants."""
    query = (
        select(ErasureRequest, Member)
        .join(Member, Member.id == ErasureRequest.member_id)
        .where(ErasureRequest.tenant_id == tenant_id, ErasureRequest.status == "pending")
        .order_by(ErasureRequest.requested_at, ErasureRequest.id)
    )
    if programme_id is not None:
        query = query.where(
            ErasureRequest.member_id.in_(
                select(Participant.member_id).where(
                    Participant.tenant_id == tenant_id, Participant.programme_id == programme_id
                )
            )
        )
    return [
        PendingRequest(r.id, m.id, m.name, r.requested_at, r.coordinator_note)
        for r, m in session.execute(query)
    ]


def _programme_request(
    session: Session, actor: Actor, programme_id: int, request_id: int
) -> ErasureRequest:
    """A pending request of a participant of a programme the actor coordinates."""
    coordinated_programme(session, actor, programme_id)
    request = session.scalars(
        select(ErasureRequest).where(
            ErasureRequest.tenant_id == actor.tenant_id,
            ErasureRequest.id == request_id,
            ErasureRequest.member_id.in_(
                select(Participant.member_id).where(
                    Participant.tenant_id == actor.tenant_id,
                    Participant.programme_id == programme_id,
                )
            ),
        )
    ).first()
    if request is None:
        raise NotFoundError("No such erasure request in this programme.")
    if request.status != "pending":
        raise ConflictError("This request was carried out already.")
    return request


def note_request(
    session: Session, actor: Actor, programme_id: int, request_id: int, note: str
) -> ErasureRequest:
    """A coordinator adds a note for the operator; a note cannot stop the erasure.

    Raises:
        InvalidInputError: an empty or overlong note.
        NotFoundError, PermissionDeniedError, ConflictError: not a pending request of a
            programme the actor coordinates.
    """
    request = _programme_request(session, actor, programme_id, request_id)
    note = note.strip()
    if not note or len(note) > MAX_NOTE:
        raise InvalidInputError(f"write a note of 1 to {MAX_NOTE} characters")
    request.coordinator_note, request.noted_by_member_id = note, actor.member_id
    record_event(
        session, actor.tenant_id, "erasure.noted", actor_member_id=actor.member_id,
        subject=request,
    )  # fmt: skip
    return request


def carry_out_request(
    session: Session, actor: Actor, programme_id: int, request_id: int
) -> ErasureResult:
    """An institution administrator carries out a pending request ("Erase").

    Raises:
        PermissionDeniedError: the actor is not an institution administrator.
        NotFoundError, ConflictError: not a pending request of this programme.
    """
    if not actor.institution_admin:
        raise PermissionDeniedError("Only an institution administrator can erase a member.")
    request = _programme_request(session, actor, programme_id, request_id)
    return erase_member(
        session, actor.tenant_id, request.member_id,
        operator=f"institution administrator (member {actor.member_id})",
        actor_member_id=actor.member_id,
    )  # fmt: skip


def programme_ids_of(session: Session, tenant_id: int, member_id: int) -> list[int]:
    """The programmes a member takes part in (whose coordinators a request reaches)."""
    return list(
        session.scalars(
            select(Programme.id)
            .join(Participant, Participant.programme_id == Programme.id)
            .where(Participant.tenant_id == tenant_id, Participant.member_id == member_id)
        )
    )
