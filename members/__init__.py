"""Members and their identities: one linking rule set for launches, syncs and portals."""

from .batch import BatchLink, find_members, link_members
from .courses import find_course, merge_courses
from .errors import MembersError, TenantError
from .export import export_member, list_members
from .linking import LinkResult, apply_profile, find_member, link_member
from .locales import remember_locale, tenant_default_locale
from .records import SYSTEM_USERNAMES, PersonRecord
from .sessions import (
    ABSOLUTE_LIFETIME,
    IDLE_LIFETIME,
    SessionCheck,
    check_session,
    end_member_sessions,
    end_session,
    end_tenant_sessions,
    start_session,
)
from .tenants import (
    PrivacySettings,
    TenantSummary,
    add_tenant,
    find_tenant,
    list_tenants,
    privacy_settings,
    set_tenant_settings,
    slug_for,
    tenant_privacy,
)

__all__ = [
    "ABSOLUTE_LIFETIME",
    "IDLE_LIFETIME",
    "SYSTEM_USERNAMES",
    "BatchLink",
    "LinkResult",
    "MembersError",
    "PersonRecord",
    "PrivacySettings",
    "SessionCheck",
    "TenantError",
    "TenantSummary",
    "add_tenant",
    "apply_profile",
    "check_session",
    "end_member_sessions",
    "end_session",
    "end_tenant_sessions",
    "export_member",
    "find_course",
    "find_member",
    "find_members",
    "find_tenant",
    "link_member",
    "link_members",
    "list_members",
    "list_tenants",
    "merge_courses",
    "privacy_settings",
    "remember_locale",
    "set_tenant_settings",
    "slug_for",
    "start_session",
    "tenant_default_locale",
    "tenant_privacy",
]
