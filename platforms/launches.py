"""After a launch validated: who the user is, which course and programme, what happens next.

Like django-lti's ``sync_data_from_launch``: the member and identity (through
:func:`members.link_member`), the course and enrolment, the programme the link
carries, the launch data kept for later requests, and a coordinator's roster import.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from members import link_member, remember_locale, tenant_default_locale
from records import Programme, SecretBox

from . import audit
from . import claims as c
from .enrolments import enrol, ensure_course
from .launch import ValidLaunch
from .roster import queue_roster_import
from .state import LAUNCH_DATA, add_value, get_value

log = logging.getLogger(__name__)

LAUNCH_DATA_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True)
class LaunchOutcome:
    """What the session needs to know after a launch."""

    tenant_id: int
    member_id: int
    role: str
    course_id: int | None
    programme_id: int | None
    launch_id: str
    message_type: str
    institution_admin: bool = False
    # The member's language (this launch's locale claim, else the last known one) and
    # the tenant's default: the session keeps both for choosing each page's language.
    locale: str | None = None
    tenant_locale: str | None = None


def _programme_id(claims: dict[str, Any]) -> int | None:
    custom = claims.get(c.CUSTOM)
    value = custom.get(c.PROGRAMME_PARAM) if isinstance(custom, dict) else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _link_programme(
    session: Session,
    tenant_id: int,
    programme_id: int | None,
    course_id: int | None,
    claims: dict,
    *,
    coordinator: bool,
) -> int | None:
    """The programme a resource link carries (``custom tandem_programme_id``), if it is
    this course's or tenant-wide; a coordinator's launch also links it to the course and
    records the platform's line item for it.

    Only a coordinator of the programme's own course may link it: a learner's launch, or
    one from another course, carrying the id of another course's programme must not
    re-point that programme's gradebook line item (issue 12, finding 12).
    """
    if programme_id is None:
        return None
    programme = session.get(Programme, programme_id)
    if programme is None or programme.tenant_id != tenant_id:
        return None  # a link copied from another platform's course opens nothing
    if programme.course_id is not None and programme.course_id != course_id:
        return None  # nor does one copied from another course of this platform
    if not coordinator:
        return programme.id
    context = claims.get(c.CONTEXT) or {}
    if course_id is not None and programme.course_id is None:
        programme.course_id = course_id
    if context.get("id") and not programme.lti_context_id:
        programme.lti_context_id = context["id"]
    ags = claims.get(c.AGS)
    if isinstance(ags, dict):
        if isinstance(ags.get("lineitem"), str) and programme.lineitem_url != ags["lineitem"]:
            programme.lineitem_url = ags["lineitem"]
        lineitems = ags.get("lineitems")
        if isinstance(lineitems, str) and programme.settings.get("lti_lineitems_url") != lineitems:
            programme.settings = {**programme.settings, "lti_lineitems_url": lineitems}
    return programme.id


def _queue_roster_import(
    session: Session, launch: ValidLaunch, course_id: int, member_id: int, product: str | None
) -> None:
    service = launch.claims.get(c.NRPS)
    url = service.get("context_memberships_url") if isinstance(service, dict) else None
    if not isinstance(url, str):
        return
    # A job: the coordinator's page answers at once and shows the import's progress.
    queue_roster_import(session, launch.tenant.id, course_id, url, member_id, product)


def complete_launch(
    session: Session, box: SecretBox, launch: ValidLaunch, *, remote_addr: str | None = None
) -> LaunchOutcome:
    """Record what a valid launch tells: member, identities, course, enrolment, programme.

    A coordinator's launch also queues the course roster's import through NRPS when
    the platform offers it (at most every :data:`platforms.roster.ROSTER_REFRESH`).
    """
    tenant, claims = launch.tenant, launch.claims
    product = c.product_of(claims, tenant.settings.get("product"))
    person = c.person_from_claims(launch.sub, claims, product=product)
    member = link_member(session, tenant.id, person).member
    remember_locale(member, c.locale_of(claims))
    role = c.tandem_role(claims.get(c.ROLES) or [])
    context = claims.get(c.CONTEXT)
    course = (
        ensure_course(session, tenant.id, context, c.lms_course_key(claims, product=product))
        if isinstance(context, dict)
        else None
    )
    if course is not None:
        enrol(session, tenant.id, member.id, course.id, role, status="active", accessed=True)
    programme_id = _link_programme(
        session,
        tenant.id,
        _programme_id(claims),
        course.id if course else None,
        claims,
        coordinator=role == c.COORDINATOR,
    )
    launch_id = secrets.token_urlsafe(24)
    add_value(
        session,
        LAUNCH_DATA,
        launch_id,
        {
            "tenant_id": tenant.id,
            "member_id": member.id,
            "role": role,
            "course_id": course.id if course else None,
            "programme_id": programme_id,
            "message_type": launch.message_type,
            "deployment_id": launch.deployment_id,
            "context": context if isinstance(context, dict) else None,
            "deep_linking_settings": claims.get(c.DEEP_LINKING_SETTINGS),
            "ags": claims.get(c.AGS),
            "nrps": claims.get(c.NRPS),
        },
        LAUNCH_DATA_LIFETIME,
    )
    audit.record(
        session,
        "lti.launch",
        tenant_id=tenant.id,
        actor_member_id=member.id,
        subject=("course", str(course.id)) if course else None,
        detail={"message_type": launch.message_type, "role": role},
        remote_addr=remote_addr,
    )
    if role == c.COORDINATOR and course is not None:
        _queue_roster_import(session, launch, course.id, member.id, product)
    return LaunchOutcome(
        tenant_id=tenant.id,
        member_id=member.id,
        role=role,
        course_id=course.id if course else None,
        programme_id=programme_id,
        launch_id=launch_id,
        message_type=launch.message_type,
        institution_admin=role == c.COORDINATOR
        and c.is_institution_admin(claims.get(c.ROLES) or []),
        locale=member.locale,
        tenant_locale=tenant_default_locale(tenant),
    )


def launch_data(session: Session, launch_id: str, tenant_id: int) -> dict[str, Any] | None:
    """The stored data of a launch, when it belongs to ``tenant_id`` and has not expired."""
    data = get_value(session, LAUNCH_DATA, launch_id)
    if data is None or data.get("tenant_id") != tenant_id:
        return None
    return data
