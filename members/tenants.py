"""Tenants as an operator manages them: add one without an LMS, list, and set its policies.

A tenant made here has no issuer or client id yet: a directory connector or a member
portal can be added to it before any LMS registers. Its privacy settings (the association's
name and contact, and how long closed pairs' free text and audit rows are kept) live in
``Tenant.settings``; :func:`privacy_settings` is the one reader, with the defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import translations
from records import Member, Tenant, record_event

from .errors import TenantError
from .locales import DEFAULT_LOCALE_SETTING

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Defaults stated in the README: free text of pairs closed two years ago goes, and so do
# audit rows of that age.
DEFAULT_RETAIN_CLOSED_MONTHS = 24
DEFAULT_AUDIT_RETAIN_MONTHS = 24
MAX_MONTHS = 240
MAX_NAME = 200
MAX_CONTACT = 320


@dataclass(frozen=True)
class PrivacySettings:
    """What the privacy page says and what retention applies, for one tenant."""

    association_name: str
    privacy_contact: str | None
    retain_closed_months: int
    audit_retain_months: int


@dataclass(frozen=True)
class TenantSummary:
    """One line of ``tandem tenant list``."""

    slug: str
    name: str
    issuer: str | None
    active: bool
    members: int
    privacy: PrivacySettings


def privacy_settings(tenant: Tenant) -> PrivacySettings:
    """The tenant's privacy settings, defaults filled in."""
    settings = tenant.settings or {}
    return PrivacySettings(
        association_name=settings.get("association_name") or tenant.name,
        privacy_contact=settings.get("privacy_contact") or None,
        retain_closed_months=int(
            settings.get("retain_closed_months", DEFAULT_RETAIN_CLOSED_MONTHS)
        ),
        audit_retain_months=int(settings.get("audit_retain_months", DEFAULT_AUDIT_RETAIN_MONTHS)),
    )


def _locale(value: str) -> str:
    tag = translations.normalise(value)
    languages = translations.available_languages()
    if tag is None or tag.split("_")[0] not in languages:
        raise TenantError(
            f"--default-locale {value[:40]!r} is not a language Tandem speaks: "
            f"use one of {', '.join(languages)} (e.g. fr or fr-CA)"
        )
    return tag


def tenant_privacy(session: Session, tenant_id: int) -> PrivacySettings:
    """The privacy settings of the tenant with this id (the privacy page's figures).

    Raises:
        TenantError: no such tenant.
    """
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise TenantError(f"no tenant {tenant_id}")
    return privacy_settings(tenant)


def slug_for(session: Session, name: str, *, fallback: str = "tenant") -> str:
    """A free slug made from ``name`` (``acme-institute``, then ``acme-institute-2``)."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48] or fallback
    taken = set(session.scalars(select(Tenant.slug).where(Tenant.slug.like(f"{stem}%"))).all())
    slug, number = stem, 1
    while slug in taken:
        number += 1
        slug = f"{stem}-{number}"
    return slug


def add_tenant(session: Session, name: str, *, slug: str | None = None) -> Tenant:
    """Add a tenant with no LMS registration (a directory or portal can come first).

    Raises:
        TenantError: an empty or overlong name, a malformed slug, or a slug that is taken.
    """
    name = name.strip()
    if not name:
        raise TenantError("the tenant needs a name")
    if len(name) > MAX_NAME:
        raise TenantError(f"the name is over {MAX_NAME} characters")
    if slug is not None:
        slug = slug.strip()
        if not SLUG_PATTERN.match(slug):
            raise TenantError(
                f"slug {slug!r} must be lowercase letters, digits or dashes (at most 64)"
            )
        if session.scalars(select(Tenant.id).where(Tenant.slug == slug)).first() is not None:
            raise TenantError(f"there is already a tenant {slug!r}")
    tenant = Tenant(slug=slug or slug_for(session, name), name=name, issuer=None, client_id=None)
    session.add(tenant)
    session.flush()
    record_event(session, tenant.id, "tenant.added", subject=tenant, detail={"by": "operator"})
    return tenant


def find_tenant(session: Session, name: str) -> Tenant:
    """The tenant whose slug is ``name`` or, failing that, whose name is exactly ``name``.

    Raises:
        TenantError: no such tenant, or two tenants share that name.
    """
    tenant = session.scalars(select(Tenant).where(Tenant.slug == name)).first()
    if tenant is not None:
        return tenant
    named = session.scalars(select(Tenant).where(Tenant.name == name).limit(2)).all()
    if len(named) == 1:
        return named[0]
    if named:
        raise TenantError(f"several tenants are called {name!r}: give the slug")
    raise TenantError(f"no tenant {name!r} (see `tandem tenant list`)")


def list_tenants(session: Session) -> list[TenantSummary]:
    """Every tenant with its member count and privacy settings, by slug."""
    counts = dict(
        session.execute(
            select(Member.tenant_id, func.count())
            .where(Member.erased_at.is_(None))
            .group_by(Member.tenant_id)
        ).all()
    )
    return [
        TenantSummary(
            slug=t.slug,
            name=t.name,
            issuer=t.issuer,
            active=t.active,
            members=int(counts.get(t.id, 0)),
            privacy=privacy_settings(t),
        )
        for t in session.scalars(select(Tenant).order_by(Tenant.slug))
    ]


def _months(option: str, value: int) -> int:
    if not 1 <= value <= MAX_MONTHS:
        raise TenantError(f"{option} {value} is out of range; need 1 to {MAX_MONTHS} months")
    return value


def set_tenant_settings(
    session: Session,
    tenant: Tenant,
    *,
    retain_closed_months: int | None = None,
    audit_retain_months: int | None = None,
    association_name: str | None = None,
    privacy_contact: str | None = None,
    default_locale: str | None = None,
) -> PrivacySettings:
    """Change the tenant's privacy settings and default language; ``None`` leaves one as
    it is.

    Every value is checked before any is stored, so a bad one changes nothing.

    Raises:
        TenantError: a number of months out of range, an empty or overlong name, or a
            contact that is neither an email address nor an https URL, or a language
            Tandem has no catalogue for.
    """
    changes: dict[str, object] = {}
    if retain_closed_months is not None:
        changes["retain_closed_months"] = _months("--retain-closed-months", retain_closed_months)
    if audit_retain_months is not None:
        changes["audit_retain_months"] = _months("--audit-retain-months", audit_retain_months)
    if association_name is not None:
        association_name = association_name.strip()
        if not association_name or len(association_name) > MAX_NAME:
            raise TenantError(f"the association name must be 1 to {MAX_NAME} characters")
        changes["association_name"] = association_name
    if privacy_contact is not None:
        contact = privacy_contact.strip()
        if len(contact) > MAX_CONTACT or not (
            re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", contact)
            or re.fullmatch(r"https://[^\s]+", contact)
        ):
            raise TenantError(
                f"the privacy contact {contact[:80]!r} is neither an email address "
                "nor an https:// URL"
            )
        changes["privacy_contact"] = contact
    if default_locale is not None:
        changes[DEFAULT_LOCALE_SETTING] = _locale(default_locale)
    if not changes:
        raise TenantError("nothing to set: give at least one option (see --help)")
    # A new dict, so that the JSON column sees the change.
    tenant.settings = {**(tenant.settings or {}), **changes}
    session.flush()
    record_event(
        session, tenant.id, "tenant.settings_changed", subject=tenant,
        detail={"changed": sorted(changes)},
    )  # fmt: skip
    return privacy_settings(tenant)
