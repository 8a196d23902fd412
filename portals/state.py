"""Short-lived portal values (sign-in state, one-time links, rate counters) and their
namespaces. The storage is shared with LTI launches: :mod:`records.expiring`.
"""

from __future__ import annotations

from records.expiring import add_value, count_in_window, exists_expired, get_value, pop_value

SIGN_IN_STATE = "portal.state"
# A state already used to sign in: reopening its callback is told as such.
SIGN_IN_USED = "portal.state_used"
EMAIL_LINK = "portal.email_link"
EMAIL_RATE = "portal.email_rate"

__all__ = [
    "EMAIL_LINK",
    "EMAIL_RATE",
    "SIGN_IN_STATE",
    "SIGN_IN_USED",
    "add_value",
    "count_in_window",
    "exists_expired",
    "get_value",
    "pop_value",
]
