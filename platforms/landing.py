"""What the landing pages show right after a launch."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from records import Course, Member, Programme, Tenant

from .claims import COORDINATOR
from .roster import RosterProgress, roster_progress


@dataclass(frozen=True)
class Landing:
    """The signed-in person, where they came from, and the programme their link opens."""

    name: str
    email: str | None
    picture_url: str | None
    role: str
    platform_name: str
    course_title: str | None
    programme_name: str | None
    # A coordinator's course roster being imported (a job): how far it is.
    roster: RosterProgress | None = None


# The member, their tenant's name, and the course and programme of their launch (each of
# this tenant, or none) in one query, built once: every launch lands here.
_LANDING = (
    select(Member, Tenant.name, Course, Programme)
    .join(Tenant, Tenant.id == Member.tenant_id)
    .outerjoin(
        Course, (Course.id == bindparam("course_id")) & (Course.tenant_id == Member.tenant_id)
    )
    .outerjoin(
        Programme,
        (Programme.id == bindparam("programme_id")) & (Programme.tenant_id == Member.tenant_id),
    )
    .where(Member.id == bindparam("member_id"), Member.tenant_id == bindparam("tenant_id"))
)


def landing(
    session: Session,
    tenant_id: int,
    member_id: int,
    role: str,
    course_id: int | None,
    programme_id: int | None,
) -> Landing | None:
    """The landing page of a member of ``tenant_id``; ``None`` if they are not one."""
    found = session.execute(
        _LANDING,
        {"member_id": member_id, "tenant_id": tenant_id, "course_id": course_id,
         "programme_id": programme_id},
    ).first()  # fmt: skip
    if found is None:
        return None
    member, platform_name, course, programme = found
    return Landing(
        name=member.name,
        email=member.email,
        picture_url=member.picture_url,
        role=role,
        platform_name=platform_name,
        course_title=course.title if course and course.tenant_id == tenant_id else None,
        programme_name=programme.name if programme and programme.tenant_id == tenant_id else None,
        roster=roster_progress(session, tenant_id, course.id)
        if role == COORDINATOR and course is not None and course.tenant_id == tenant_id
        else None,
    )
