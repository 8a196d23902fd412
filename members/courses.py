"""One LMS course is one course in Tandem, whichever path (launch or sync) saw it first.

A launch names a course by its LTI context id; a connector by the LMS's own course id.
Moodle's context id *is* its course id, and Canvas can send its course id in a launch
(the ``canvas_course_id=$Canvas.course.id`` custom field), so a launch that knows the
LMS's key stores the course under it (``moodle``/``canvas`` and the course id, the key a
sync uses) and keeps the context id beside it. A course an older launch stored under
``lti`` alone is merged into the keyed one: programmes, enrolments and learning records
move to the one course.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from records import Course, Enrolment, LearningRecord, Programme

LTI_SOURCE = "lti"

# Built once, with bound parameters (every launch asks): a context's course, and a
# context's or an LMS key's courses.
_CONTEXT = bindparam("context_id")
_OF_CONTEXT_CLAUSE = (Course.lti_context_id == _CONTEXT) | (
    (Course.source == LTI_SOURCE) & (Course.external_id == _CONTEXT)
)
_OF_CONTEXT = (
    select(Course)
    .where(Course.tenant_id == bindparam("tenant_id"), _OF_CONTEXT_CLAUSE)
    .order_by(Course.id)
)
_OF_CONTEXT_OR_KEY = (
    select(Course)
    .where(
        Course.tenant_id == bindparam("tenant_id"),
        _OF_CONTEXT_CLAUSE
        | (
            (Course.source == bindparam("source"))
            & (Course.external_id == bindparam("external_id"))
        ),
    )
    .order_by(Course.id)
)


def find_course(
    session: Session, tenant_id: int, context_id: str, lms_key: tuple[str, str] | None
) -> Course | None:
    """The tenant's one course for an LTI context (and the LMS's key, when known).

    A course stored under the context id alone is re-keyed to the LMS key, or merged
    into the keyed course if a sync already made one. The caller creates the course
    when this returns ``None``.
    """
    if lms_key is None:
        return session.scalars(
            _OF_CONTEXT, {"tenant_id": tenant_id, "context_id": context_id}
        ).first()
    source, external_id = lms_key
    # One query for both kinds (every launch asks): the context's and the keyed course.
    found = session.scalars(
        _OF_CONTEXT_OR_KEY,
        {"tenant_id": tenant_id, "context_id": context_id, "source": source,
         "external_id": external_id},
    ).all()  # fmt: skip
    keyed = next((c for c in found if (c.source, c.external_id) == (source, external_id)), None)
    by_context = [
        c
        for c in found
        if c.lti_context_id == context_id
        or (c.source == LTI_SOURCE and c.external_id == context_id)
    ]
    for other in by_context:
        if keyed is None and other.source == LTI_SOURCE:
            # Only a launch saw it so far: it takes the LMS's key.
            other.source, other.external_id = source, external_id
            keyed = other
        elif keyed is not None and other.id != keyed.id and other.source == LTI_SOURCE:
            merge_courses(session, tenant_id, keep=keyed, drop=other)
    if keyed is not None and keyed.lti_context_id != context_id:
        keyed.lti_context_id = context_id
    session.flush()
    return keyed


def merge_courses(session: Session, tenant_id: int, *, keep: Course, drop: Course) -> None:
    """Move everything of ``drop`` to ``keep`` and delete ``drop`` (one tenant's rows).

    An enrolment ``keep`` already has (same member and role) is the one kept.
    """
    held = select(Enrolment.member_id, Enrolment.role).where(
        Enrolment.tenant_id == tenant_id, Enrolment.course_id == keep.id
    )
    held_pairs = {(m, r) for m, r in session.execute(held)}
    for enrolment in session.scalars(
        select(Enrolment).where(Enrolment.tenant_id == tenant_id, Enrolment.course_id == drop.id)
    ):
        if (enrolment.member_id, enrolment.role) in held_pairs:
            session.delete(enrolment)
        else:
            enrolment.course_id = keep.id
    for model in (Programme, LearningRecord):
        session.execute(
            update(model)
            .where(model.tenant_id == tenant_id, model.course_id == drop.id)
            .values(course_id=keep.id)
            .execution_options(synchronize_session=False)
        )
    if not keep.lti_context_id and drop.lti_context_id:
        keep.lti_context_id = drop.lti_context_id
    session.flush()
    session.execute(delete(Course).where(Course.tenant_id == tenant_id, Course.id == drop.id))
    session.expire_all()
