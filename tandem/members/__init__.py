"""Members and their identities: one linking rule set for launches, syncs and portals."""

from .linking import LinkResult, apply_profile, find_member, link_member
from .records import SYSTEM_USERNAMES, PersonRecord

__all__ = [
    "SYSTEM_USERNAMES",
    "LinkResult",
    "PersonRecord",
    "apply_profile",
    "find_member",
    "link_member",
]
