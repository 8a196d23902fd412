"""Members and their identities: one linking rule set for launches, syncs and portals."""

from .batch import BatchLink, find_members, link_members
from .courses import find_course, merge_courses
from .export import export_member, list_members
from .linking import LinkResult, apply_profile, find_member, link_member
from .records import SYSTEM_USERNAMES, PersonRecord

__all__ = [
    "SYSTEM_USERNAMES",
    "BatchLink",
    "LinkResult",
    "PersonRecord",
    "apply_profile",
    "export_member",
    "find_course",
    "find_member",
    "find_members",
    "link_member",
    "link_members",
    "list_members",
    "merge_courses",
]
