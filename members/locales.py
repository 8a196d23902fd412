"""A member's language: the one rule that a launch and a portal sign-in both apply."""

from __future__ import annotations

import translations
from records import Member, Tenant

DEFAULT_LOCALE_SETTING = "default_locale"


def remember_locale(member: Member, claimed: object) -> None:
    """Keep the locale a launch or sign-in claimed as the member's last known one.

    A claim that is not a locale (not a string, overlong, unknown to Babel) is ignored:
    the member keeps what Tandem knew, and the sign-in goes on.
    """
    tag = translations.normalise(claimed)
    if tag is not None and tag != member.locale:
        member.locale = tag


def tenant_default_locale(tenant: Tenant | None) -> str | None:
    """The language the tenant's pages and mail fall back to (``tandem tenant set``)."""
    if tenant is None:
        return None
    value = (tenant.settings or {}).get(DEFAULT_LOCALE_SETTING)
    return value if isinstance(value, str) else None
