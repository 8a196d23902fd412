"""Members and their identities: one linking rule set for launches, syncs and portals."""

from .batch import BatchLink, find_members, link_members
from .export import export_member, list_members
from .linking import LinkResult, apply_profile, find_member, link_member
from .records import SYSTEM_USERNAMES, PersonRecord
from .sessions import (
    ABSOLUTE_LIFETIME,
    IDLE_LIFETIME,
    check_session,
    end_member_sessions,
    end_session,
    end_tenant_sessions,
    start_session,
)

__all__ = [
    "ABSOLUTE_LIFETIME",
    "IDLE_LIFETIME",
    "SYSTEM_USERNAMES",
    "BatchLink",
    "LinkResult",
    "PersonRecord",
    "apply_profile",
    "check_session",
    "end_member_sessions",
    "end_session",
    "end_tenant_sessions",
    "export_member",
    "find_member",
    "find_members",
    "link_member",
    "link_members",
    "list_members",
    "start_session",
]
