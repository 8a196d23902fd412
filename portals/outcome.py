"""What a portal sign-in hands the web layer: the same shape as an LMS launch's outcome."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from members import tenant_default_locale
from records import Member, Portal, Tenant

from . import audit


@dataclass(frozen=True)
class PortalOutcome:
    """Who signed in, through which portal; no course, programme or launch."""

    tenant_id: int
    member_id: int
    role: str
    portal_id: int
    origins: tuple[str, ...]
    course_id: int | None = None
    programme_id: int | None = None
    launch_id: str | None = None
    # Set when the portal offers RP-initiated logout: the ID token to hand back to it as
    # ``id_token_hint`` at sign-out ("" when too long to keep).
    id_token_hint: str | None = None
    # The member's last known language and the tenant's default (see LaunchOutcome).
    locale: str | None = None
    tenant_locale: str | None = None


def signed_in(
    session: Session,
    portal: Portal,
    member: Member,
    role: str,
    *,
    method: str,
    remote_addr: str | None,
) -> PortalOutcome:
    """Record a successful sign-in (one audit row) and say who signed in."""
    audit.record(
        session,
        "portal.sign_in",
        tenant_id=portal.tenant_id,
        actor_member_id=member.id,
        portal_id=portal.id,
        detail={"method": method, "role": role},
        remote_addr=remote_addr,
    )
    return PortalOutcome(
        tenant_id=portal.tenant_id,
        member_id=member.id,
        role=role,
        portal_id=portal.id,
        origins=tuple(portal.origins),
        locale=member.locale,
        tenant_locale=tenant_default_locale(session.get(Tenant, portal.tenant_id)),
    )
