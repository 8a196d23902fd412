"""A portal member's Tandem role, from a group or claim the operator named."""

from __future__ import annotations

from typing import Any

from platforms import COORDINATOR, MEMBER
from records import Portal


def claim_value(claims: dict[str, Any], name: str) -> Any:
    """The claim ``name``; a dotted name reaches into nested objects (``realm_access.roles``)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def role_from_claims(portal: Portal, claims: dict[str, Any]) -> str:
    """``coordinator`` when the portal's coordinator claim holds one of its values.

    The claim may be a list (groups) or a single value; strings are compared exactly,
    because group names like ``Coordinators`` and ``coordinators`` can be different
    groups in a portal.
    """
    if not portal.coordinator_claim or not portal.coordinator_values:
        return MEMBER
    value = claim_value(claims, portal.coordinator_claim)
    held = value if isinstance(value, list) else [value]
    wanted = {str(v) for v in portal.coordinator_values}
    if any(isinstance(v, str | int) and not isinstance(v, bool) and str(v) in wanted for v in held):
        return COORDINATOR
    return MEMBER
