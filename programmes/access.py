"""Who may see what: tenant-scoped loading of programmes, participants and matches.

Every service loads rows through these functions, so a row of another tenant is simply
"not found" and a member's role is checked in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from records import Enrolment, Match, Member, Participant, Programme

from .errors import NotFoundError, OutOfScopeError, PermissionDeniedError


@dataclass(frozen=True)
class Actor:
    """Who is acting: a member of a tenant, as member or coordinator.

    ``course_id`` is the course of the launch; a coordinator who is not an institution
    administrator sees only the programmes linked to their course (and unlinked ones).
    """

    tenant_id: int
    member_id: int | None
    coordinator: bool = False
    institution_admin: bool = False
    course_id: int | None = None


def operator_actor(session: Session, programme_id: int) -> Actor:
    """An actor for the command line: the operator acts as an institution administrator
    of the programme's tenant.

    Raises:
        NotFoundError: no programme with that id.
    """
    tenant_id = session.scalars(
        select(Programme.tenant_id).where(Programme.id == programme_id)
    ).first()
    if tenant_id is None:
        raise NotFoundError(f"no programme {programme_id}")
    return Actor(tenant_id=tenant_id, member_id=None, coordinator=True, institution_admin=True)


def open_to_member(actor: Actor) -> ColumnElement[bool]:
    """Which programmes a member (not a coordinator) may see and join: tenant-wide ones
    (no course: portal and association programmes), those of a course the member is
    actively enrolled in, and those they already take part in.

    One rule for the programme list, the programme page and enrolment, as a SQL
    condition on :class:`~records.Programme` so that lists filter in the database.
    """
    return open_to(actor.tenant_id, actor.member_id)


def open_to(tenant_id: Any, member_id: Any) -> ColumnElement[bool]:
    """:func:`open_to_member` for a tenant and member given as values or as bound
    parameters (for a statement built once)."""
    enrolled = select(Enrolment.course_id).where(
        Enrolment.tenant_id == tenant_id,
        Enrolment.member_id == member_id,
        Enrolment.status == "active",
    )
    taking_part = exists().where(
        Participant.tenant_id == tenant_id,
        Participant.programme_id == Programme.id,
        Participant.member_id == member_id,
    )
    return Programme.course_id.is_(None) | Programme.course_id.in_(enrolled) | taking_part


def get_programme(session: Session, actor: Actor, programme_id: int) -> Programme:
    """The programme, if it is in the actor's tenant and visible to them.

    The one rule of who may see a programme: every page and command that names a
    programme (set-up, match day, the dashboard, the export, alerts, re-match,
    enrolment) loads it through here. A coordinator sees their course's programmes and
    tenant-wide ones (an institution administrator, all); a member, those of
    :func:`open_to_member`.

    Raises:
        NotFoundError: no such programme in the tenant.
        OutOfScopeError: it is another course's than the coordinator's.
    """
    programme = session.scalars(
        select(Programme).where(
            Programme.id == programme_id, Programme.tenant_id == actor.tenant_id
        )
    ).first()
    if programme is None:
        raise NotFoundError("No such programme.")
    if (
        not actor.coordinator
        and programme.course_id is not None
        and session.scalars(
            select(Programme.id).where(Programme.id == programme.id, open_to_member(actor))
        ).first()
        is None
    ):
        # A member of another course is told no more than "not found".
        raise OutOfScopeError("No such programme in your courses.", programme.id)
    if (
        actor.coordinator
        and not actor.institution_admin
        and programme.course_id is not None
        and actor.course_id is not None
        and programme.course_id != actor.course_id
    ):
        raise OutOfScopeError("No such programme in this course.", programme.id)
    return programme


def require_coordinator(actor: Actor) -> None:
    if not actor.coordinator:
        raise PermissionDeniedError("Only the programme's coordinators can do this.")


def coordinated_programme(session: Session, actor: Actor, programme_id: int) -> Programme:
    """The programme, for a coordinator of it."""
    require_coordinator(actor)
    return get_programme(session, actor, programme_id)


def own_participant(session: Session, actor: Actor, programme_id: int) -> Participant | None:
    """The actor's participation in the programme, if any (withdrawn included)."""
    return session.scalars(
        select(Participant).where(
            Participant.tenant_id == actor.tenant_id,
            Participant.programme_id == programme_id,
            Participant.member_id == actor.member_id,
        )
    ).first()


def get_match(session: Session, actor: Actor, match_id: int) -> Match:
    """A match in the actor's tenant."""
    match = session.scalars(
        select(Match).where(Match.id == match_id, Match.tenant_id == actor.tenant_id)
    ).first()
    if match is None:
        raise NotFoundError("No such match.")
    return match


def get_participant(
    session: Session, actor: Actor, programme_id: int, participant_id: int
) -> Participant:
    participant = session.scalars(
        select(Participant).where(
            Participant.id == participant_id,
            Participant.tenant_id == actor.tenant_id,
            Participant.programme_id == programme_id,
        )
    ).first()
    if participant is None:
        raise NotFoundError("No such participant in this programme.")
    return participant


def members_by_id(session: Session, tenant_id: int, member_ids: set[int]) -> dict[int, Member]:
    """Members of the tenant by id, in one query."""
    if not member_ids:
        return {}
    rows = session.scalars(
        select(Member).where(Member.tenant_id == tenant_id, Member.id.in_(member_ids))
    )
    return {m.id: m for m in rows}
