"""Short-lived portal values (sign-in state, one-time links, rate counters) and their
namespaces. The storage is shared with LTI launches: :mod:`records.expiring`.
"""

from __future__ import annotations

from records.expiring import add_value, count_in_window, exists_expired, get_value, pop_value

SIGN_IN_STATE = "portal.state"
EMAIL_LINK = "portal.email_link"
EMAIL_RATE = "portal.email_rate"

__all__ = [
    "EMAIL_LINK",
    "EMAIL_RATE",
    "SIGN_IN_STATE",
    "add_value",
    "count_in_window",
    "exists_expired",
    "get_value",
    "pop_value",
]
