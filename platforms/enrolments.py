"""Courses and enrolments as launches and rosters report them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from members import find_course
from records import Course, Enrolment, utcnow

SOURCE = "lti"

_ENROLMENT = Enrolment.__table__.c
# Built once (every launch asks); a Core update, as no enrolment object is loaded then.
_ACCESSED = (
    update(Enrolment.__table__)
    .where(
        _ENROLMENT.tenant_id == bindparam("the_tenant_id"),
        _ENROLMENT.member_id == bindparam("the_member_id"),
        _ENROLMENT.course_id == bindparam("the_course_id"),
        _ENROLMENT.role == bindparam("the_role"),
    )
    .values(
        status=bindparam("the_status"),
        last_access_at=bindparam("now", type_=_ENROLMENT.last_access_at.type),
    )
    .returning(_ENROLMENT.id)
)


def ensure_course(
    session: Session,
    tenant_id: int,
    context: dict[str, Any],
    lms_key: tuple[str, str] | None = None,
) -> Course | None:
    """The tenant's course for an LTI context claim, created or retitled; ``None`` without one.

    ``lms_key``: the LMS's own (source, course id) when the launch says it, so that a
    launch and a sync share one course (:func:`members.find_course`).
    """
    context_id = context.get("id") if isinstance(context, dict) else None
    if not isinstance(context_id, str) or not context_id:
        return None
    title = context.get("title") if isinstance(context.get("title"), str) else None
    label = context.get("label") if isinstance(context.get("label"), str) else None
    course = find_course(session, tenant_id, context_id, lms_key)
    if course is None:
        source, external_id = lms_key or (SOURCE, context_id)
        course = Course(
            tenant_id=tenant_id,
            source=source,
            external_id=external_id,
            lti_context_id=context_id,
            title=title or label or context_id,
            short_name=label,
        )
        try:
            # A course's first launches often come together (a class told "open it
            # now"): another launch may create the same course between our look and
            # our insert. Its row then stands, and this launch uses it.
            with session.begin_nested():
                session.add(course)
        except IntegrityError:
            course = find_course(session, tenant_id, context_id, lms_key)
            if course is None:
                raise
        return course
    if title and course.title != title:
        course.title = title
    if label and course.short_name != label:
        course.short_name = label
    return course


def enrol(
    session: Session,
    tenant_id: int,
    member_id: int,
    course_id: int,
    role: str,
    *,
    status: str,
    accessed: bool = False,
) -> int:
    """Enrol a member in a course with a Tandem role; returns 1 if a new enrolment was made.

    Args:
        accessed: the member is launching from the course now (sets ``last_access_at``).
    """
    touch = {"the_tenant_id": tenant_id, "the_member_id": member_id, "the_course_id": course_id,
             "the_role": role, "the_status": status, "now": utcnow()}  # fmt: skip
    if accessed:
        # A launch: one statement for the usual case, a member launching again.
        if session.execute(_ACCESSED, touch).first():
            return 0
    else:
        enrolment = session.scalars(
            select(Enrolment).where(
                Enrolment.tenant_id == tenant_id,
                Enrolment.member_id == member_id,
                Enrolment.course_id == course_id,
                Enrolment.role == role,
            )
        ).first()
        if enrolment is not None:
            if enrolment.status != status:
                enrolment.status = status
            return 0
    try:
        # A member's first launch may come twice at once (a double click, two tabs):
        # the other launch's enrolment then stands, and this launch touches it.
        with session.begin_nested():
            session.add(
                Enrolment(
                    tenant_id=tenant_id,
                    member_id=member_id,
                    course_id=course_id,
                    role=role,
                    status=status,
                    source=SOURCE,
                    last_access_at=touch["now"] if accessed else None,
                )
            )
    except IntegrityError:
        if not accessed or not session.execute(_ACCESSED, touch).first():
            raise
        return 0
    return 1


def enrol_many(
    session: Session, tenant_id: int, course_id: int, rows: list[tuple[int, str, str]]
) -> int:
    """:func:`enrol` for many ``(member_id, role, status)`` at once (a roster page);
    returns how many enrolments were new. Two statements whatever the page's size."""
    if not rows:
        return 0
    member_ids = sorted({member_id for member_id, _, _ in rows})
    existing = {
        (e.member_id, e.role): e
        for e in session.scalars(
            select(Enrolment).where(
                Enrolment.tenant_id == tenant_id,
                Enrolment.course_id == course_id,
                Enrolment.member_id.in_(member_ids),
            )
        )
    }
    new = {}
    for member_id, role, status in rows:
        enrolment = existing.get((member_id, role))
        if enrolment is not None:
            if enrolment.status != status:
                enrolment.status = status
        else:
            new[(member_id, role)] = status
    if new:
        session.execute(
            insert(Enrolment),
            [
                {"tenant_id": tenant_id, "member_id": member_id, "course_id": course_id,
                 "role": role, "status": status, "source": SOURCE}
                for (member_id, role), status in new.items()
            ],
        )  # fmt: skip
    return len(new)
