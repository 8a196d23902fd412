"""Moodle's REST web services: one endpoint, bracket-encoded parameters, errors in HTTP 200."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import requests

from ..errors import (
    AuthenticationError,
    BadRequest,
    ConnectorError,
    FunctionNotAvailable,
    MalformedResponse,
    NoData,
    NotFound,
    PermissionDenied,
)
from ..http import Requester

ENDPOINT = "webservice/rest/server.php"

# The capability each function needs, so a `nopermissions` error can name it.
CAPABILITIES = {
    "core_user_get_users": "moodle/user:viewdetails",
    "core_course_get_courses": "moodle/course:view",
    "core_enrol_get_enrolled_users": "moodle/course:viewparticipants",
    "core_completion_get_course_completion_status": "report/completion:view",
    "core_completion_get_activities_completion_status": "report/progress:view",
    "gradereport_user_get_grade_items": "moodle/grade:viewall",
}

# Completion "errors" that only mean: nothing to report for this user in this course.
NO_DATA_CODES = frozenset({"nocriteriaset", "usernotenroled"})


def flatten(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Moodle's form encoding of nested parameters: ``criteria[0][key]=email``."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs.extend(flatten(value, name))
        elif isinstance(value, list | tuple):
            pairs.extend(flatten(dict(enumerate(value)), name))
        elif isinstance(value, bool):
            pairs.append((name, "1" if value else "0"))
        else:
            pairs.append((name, str(value)))
    return pairs


def moodle_error(function: str, payload: Mapping[str, Any]) -> ConnectorError:
    """The error a Moodle exception payload means, named so an operator can act."""
    code = str(payload.get("errorcode") or payload.get("exception") or "unknown")
    said = str(payload.get("message") or "").strip()
    # `debuginfo` names the real cause when a capability is missing, e.g. "You are not
    # allowed to use the rest protocol (missing capability: webservice/rest:use)" under
    # an `accessexception` that would otherwise read as "function not in the service".
    missing = missing_capability(payload.get("debuginfo"))
    if missing is not None:
        debuginfo = " ".join(str(payload["debuginfo"]).split())[:300]
        return PermissionDenied(
            f"the token's user lacks the capability {missing}, needed by {function} "
            f"(Moodle says: {debuginfo}): grant it to the token user's role"
        )
    if code == "invalidtoken":
        return AuthenticationError(
            "Moodle refused the token (invalidtoken): check it was copied whole and has "
            "not expired or been revoked"
        )
    if code == "requireloginerror":
        return AuthenticationError(
            f"Moodle requires a login for {function} (requireloginerror): the token's "
            "user may be suspended or need to accept the site policy"
        )
    if code == "accessexception":
        return FunctionNotAvailable(
            f"Moodle denied {function} (accessexception): add {function} to the token's "
            "external service (Site administration > Server > Web services > External "
            "services), or lift the service's user restriction"
        )
    if code in ("nopermissions", "cannotviewreport", "cannotviewprofile"):
        capability = CAPABILITIES.get(function, "a capability")
        return PermissionDenied(
            f"the token's user lacks {capability}, needed by {function} ({code}"
            f"{': ' + said if said else ''})"
        )
    if code in NO_DATA_CODES:
        return NoData(f"{function}: {code}")
    if code == "invalidparameter":
        return BadRequest(f"Moodle rejected the parameters of {function} (invalidparameter)")
    if code in ("errorcoursecontextnotvalid", "invalidrecord", "invalidcourseid"):
        return NotFound(f"Moodle has no such course or user for {function} ({code})")
    return ConnectorError(f"Moodle failed {function} ({code}{': ' + said if said else ''})")


_CAPABILITY_IN_DEBUGINFO = re.compile(r"missing capability:\s*([a-z][a-z0-9_]*/[a-z0-9_:/]+)", re.I)


def missing_capability(debuginfo: Any) -> str | None:
    """The capability a Moodle ``debuginfo`` says is missing, if it names one."""
    if not isinstance(debuginfo, str):
        return None
    found = _CAPABILITY_IN_DEBUGINFO.search(debuginfo)
    return found.group(1) if found else None


def _is_error(payload: Any) -> bool:
    return (
        isinstance(payload, dict)
        and "exception" in payload
        and ("errorcode" in payload or "message" in payload)
    )


class MoodleRequester(Requester):
    """Calls web-service functions; turns Moodle's error payloads into ConnectorErrors."""

    name = "Moodle"

    def __init__(self, base_url: str, token: str, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self._token = token
        self._function = ""

    def error_for(self, response: requests.Response) -> ConnectorError | None:
        # Some sites run a plugin that sends real 4xx codes with the same payload.
        if response.status_code >= 400:
            try:
                payload = response.json()
            except ValueError:
                payload = None
            if _is_error(payload):
                return moodle_error(self._function, payload)
        return super().error_for(response)

    def call(self, function: str, **params: Any) -> Any:
        """Call ``function`` with (nested) parameters; return the decoded result.

        Raises:
            ConnectorError: a subclass for Moodle's error codes, HTTP failures included.
        """
        self._function = function
        form = [
            ("wstoken", self._token),
            ("wsfunction", function),
            ("moodlewsrestformat", "json"),
            *flatten(params),
        ]
        payload, _ = self.request_json("POST", ENDPOINT, data=form)
        if _is_error(payload):
            raise moodle_error(function, payload)
        if payload is None:
            raise MalformedResponse(f"Moodle returned nothing for {function}")
        return payload
