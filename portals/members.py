"""Who a signed-in portal user is in the tenant: the linking rules, plus the portal's own.

A portal sign-in never creates a member unless the operator allowed self-registration
for that portal, and never lets in a member the last sync deactivated.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from members import PersonRecord, find_member, link_member
from records import Identity, Member, Portal

from .errors import MemberRefused
from .roles import claim_value


def _text(value: Any, limit: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text[:limit] if text else None


def unverified_email(claims: dict[str, Any]) -> str | None:
    """The email the claims carry when the portal does not vouch for it, else ``None``."""
    return None if claims.get("email_verified") is True else _text(claims.get("email"), 320)


def _email_is_a_members(session: Session, portal: Portal, email: str) -> bool:
    record = PersonRecord(source=f"portal:{portal.name}", external_id="", email=email)
    return find_member(session, portal.tenant_id, record) is not None


def person_from_claims(portal: Portal, claims: dict[str, Any]) -> PersonRecord:
    """The person the claims (ID token and userinfo) describe, as the portal's source
    ``portal:NAME``."""
    email = _text(claims.get("email"), 320)
    if claims.get("email_verified") is not True:
        # An address the portal has not verified may be anybody's, and a missing claim
        # (or "true" as a string) is no verification: never link or store by it.
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


def _only_from_portals(session: Session, member: Member) -> bool:
    """Whether every identity of ``member`` is a portal's (a self-registered member)."""
    other = session.scalars(
        select(Identity.id)
        .where(
            Identity.tenant_id == member.tenant_id,
            Identity.member_id == member.id,
            Identity.source.not_like("portal:%"),
        )
        .limit(1)
    ).first()
    return other is None


def link_portal_member(
    session: Session, portal: Portal, person: PersonRecord, *, unverified: str | None = None
) -> Member:
    """The tenant's member for ``person``, linked to the portal identity.

    A member the directory (or an LMS, or a CSV import) brought in keeps the name and
    address that source gave: a portal account may say anything about itself.

    Raises:
        MemberRefused: not in the directory (and no self-registration), or deactivated.
            ``unverified`` is an email the person came with that the portal does not
            vouch for: when it is a member's, the reason is ``email_unverified``.
    """
    existing = find_member(session, portal.tenant_id, person)
    if existing is None and not portal.allow_self_registration:
        # The page says the same whether or not the unverified address is a member's (it
        # must not tell); the reason in the audit row and log tells the operator.
        reason = "not_in_directory"
        if unverified is not None and _email_is_a_members(session, portal, unverified):
            reason = "email_unverified"
        raise MemberRefused(
            "Tandem does not know you as a member of this association yet. Your membership "
            "may still be on its way from the member directory; try again tomorrow, or ask "
            "your association."
            + (
                " Your member portal has not confirmed your email address: confirm it there first."
                if unverified is not None
                else ""
            ),
            reason=reason,
            tenant_id=portal.tenant_id,
            portal_id=portal.id,
        )
    update_profile = True
    if existing is not None:
        # Checked before linking: linking would otherwise mark the member active again.
        refuse_inactive(portal, existing)
        update_profile = _only_from_portals(session, existing)
    return link_member(session, portal.tenant_id, person, update_profile=update_profile).member
