"""Read a tenant's members for listing and export (what syncs and launches linked)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import (
    Course,
    Enrolment,
    Identity,
    LearningRecord,
    Member,
    Participant,
    Programme,
)


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def member_summary(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "name": member.name,
        "email": member.email,
        "member_number": member.member_number,
        "active": member.active,
        "deactivated_at": _when(member.deactivated_at),
    }


def list_members(session: Session, tenant_id: int, *, active_only: bool = False) -> list[dict]:
    """The tenant's members, each with its accounts (source and external id).

    The accounts say why two were, or were not, linked to one member; ``sources``
    names the sources alone.
    """
    query = select(Member).where(Member.tenant_id == tenant_id).order_by(Member.id)
    if active_only:
        query = query.where(Member.active.is_(True))
    accounts: dict[int, list[dict[str, str]]] = {}
    for member_id, source, external_id in session.execute(
        select(Identity.member_id, Identity.source, Identity.external_id)
        .where(Identity.tenant_id == tenant_id)
        .order_by(Identity.source, Identity.external_id)
    ):
        accounts.setdefault(member_id, []).append({"source": source, "external_id": external_id})
    return [
        {
            **member_summary(m),
            "sources": sorted({a["source"] for a in accounts.get(m.id, ())}),
            "accounts": accounts.get(m.id, []),
        }
        for m in session.scalars(query)
    ]


def export_member(session: Session, tenant_id: int, member_id: int) -> dict[str, Any] | None:
    """Everything Tandem holds about one member, or ``None`` if not in this tenant."""
    member = session.get(Member, member_id)
    if member is None or member.tenant_id != tenant_id:
        return None
    identities = session.scalars(
        select(Identity)
        .where(Identity.tenant_id == tenant_id, Identity.member_id == member_id)
        .order_by(Identity.id)
    ).all()
    enrolments = session.execute(
        select(Enrolment, Course)
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.tenant_id == tenant_id, Enrolment.member_id == member_id)
        .order_by(Enrolment.id)
    ).all()
    courses = {
        row.id: row.external_id
        for row in session.execute(
            select(Course.id, Course.external_id).where(Course.tenant_id == tenant_id)
        )
    }
    records = session.scalars(
        select(LearningRecord)
        .where(LearningRecord.tenant_id == tenant_id, LearningRecord.member_id == member_id)
        .order_by(LearningRecord.id)
    ).all()
    programmes = session.execute(
        select(Participant, Programme)
        .join(Programme, Programme.id == Participant.programme_id)
        .where(Participant.tenant_id == tenant_id, Participant.member_id == member_id)
        .order_by(Participant.id)
    ).all()
    return {
        **member_summary(member),
        "given_name": member.given_name,
        "family_name": member.family_name,
        "time_zone": member.time_zone,
        "locale": member.locale,
        "identities": [
            {
                "source": i.source,
                "external_id": i.external_id,
                "last_seen_at": _when(i.last_seen_at),
            }
            for i in identities
        ],
        "enrolments": [
            {
                "course": {"source": c.source, "external_id": c.external_id, "title": c.title},
                "role": e.role,
                "status": e.status,
                "last_access_at": _when(e.last_access_at),
            }
            for e, c in enrolments
        ],
        "learning_records": [
            {
                "source": r.source,
                "key": r.record_key,
                "kind": r.kind,
                "course": courses.get(r.course_id) if r.course_id else None,
                "completed": r.completed,
                "score": r.score,
                "grade": r.grade,
                "progress": r.progress,
                "detail": r.detail,
                "recorded_at": _when(r.recorded_at),
            }
            for r in records
        ],
        "programmes": [
            {"id": g.id, "name": g.name, "role": p.role, "status": p.status} for p, g in programmes
        ],
    }
