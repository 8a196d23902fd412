"""Errors of ``members``: each message says what was wrong and what was expected."""

from __future__ import annotations


class MembersError(Exception):
    """Base of every error raised by ``members``."""


class TenantError(MembersError):
    """A tenant is unknown, or a tenant setting is malformed or taken."""
