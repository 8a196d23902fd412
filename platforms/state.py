"""Short-lived LTI values (launch state, launch data, access tokens) and their namespaces.

The storage is shared with the portals: :mod:`records.expiring`.
"""

from __future__ import annotations

from records.expiring import add_value, get_value, pop_value, put_value

LOGIN_STATE = "lti.state"
LAUNCH_DATA = "lti.launch"
ACCESS_TOKEN = "lti.access_token"
ROSTER_SYNCED = "lti.nrps_synced"
REGISTRATION_INVITE = "lti.registration_invite"
ROSTER_PROGRESS = "lti.nrps_progress"

__all__ = [
    "ACCESS_TOKEN",
    "LAUNCH_DATA",
    "LOGIN_STATE",
    "REGISTRATION_INVITE",
    "ROSTER_PROGRESS",
    "ROSTER_SYNCED",
    "add_value",
    "get_value",
    "pop_value",
    "put_value",
]
