"""Who a signed-in portal user is in the tenant: the linking rules, plus the portal's own.

A portal sign-in never creates a member unless the operator allowed self-registration
for that portal, and never lets in a member the last sync deactivated.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from members import PersonRecord, find_member, link_member
from records import Member, Portal

from .errors import MemberRefused
from .roles import claim_value


def _text(value: Any, limit: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text[:limit] if text else None


def person_from_claims(portal: Portal, claims: dict[str, Any]) -> PersonRecord:
    """The person an ID token describes, as the portal's source ``portal:NAME``."""
    email = _text(claims.get("email"), 320)
    if claims.get("email_verified") is False:
        # An address the portal itself has not verified may be anybody's: never link by it.
        email = None
    member_number = (
        _text(claim_value(claims, portal.member_number_claim), 255)
        if portal.member_number_claim
        else None
    )
    return PersonRecord(
        source=f"portal:{portal.name}",
        external_id=str(claims["sub"]),
        given_name=_text(claims.get("given_name"), 200),
        family_name=_text(claims.get("family_name"), 200),
        display_name=_text(claims.get("name"), 400),
        email=email,
        picture_url=_text(claims.get("picture"), 1000),
        member_number=member_number,
    )


def refuse_inactive(portal: Portal, member: Member) -> None:
    """Refuse a member the directory deactivated.

    Raises:
        MemberRefused: ``member`` is not active.
    """
    if not member.active:
        raise MemberRefused(
            "Your membership is not active in Tandem any more. If you think this is wrong, "
            "ask your association.",
            reason="member_inactive",
            tenant_id=portal.tenant_id,
            portal_id=portal.id,
        )


def link_portal_member(session: Session, portal: Portal, person: PersonRecord) -> Member:
    """The tenant's member for ``person``, linked to the portal identity.

    Raises:
        MemberRefused: not in the directory (and no self-registration), or deactivated.
    """
    existing = find_member(session, portal.tenant_id, person)
    if existing is None and not portal.allow_self_registration:
        raise MemberRefused(
            "Tandem does not know you as a member of this association yet. Your membership "
            "may still be on its way from the member directory; try again tomorrow, or ask "
            "your association.",
            reason="not_in_directory",
            tenant_id=portal.tenant_id,
            portal_id=portal.id,
        )
    if existing is not None:
        # Checked before linking: linking would otherwise mark the member active again.
        refuse_inactive(portal, existing)
    return link_member(session, portal.tenant_id, person).member
