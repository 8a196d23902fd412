"""Canvas: bookmark paging, throttling both ways, progress 400 as no data, 401 twice over."""

from __future__ import annotations

import pytest
import responses
from sqlalchemy import select

from connectors import AuthenticationError, PermissionDenied, RateLimited, sync
from connectors.canvas import CanvasConnector
from records import Database, Enrolment, LearningRecord, Member
from tests.support.remote import fixture

from .conftest import add_source, members

URL = "https://canvas.example.org"


def connector(delays: list[float]) -> CanvasConnector:
    return CanvasConnector(URL, "tok", {"account_id": 1}, sleep=delays.append, random=lambda: 0.5)


def register_site(throttle: str | None = None) -> None:
    users = f"{URL}/api/v1/accounts/1/users"
    if throttle == "403":
        responses.add(responses.GET, users, body="403 Forbidden (Rate Limit Exceeded)", status=403)
    if throttle == "429":
        responses.add(responses.GET, users, body="", status=429, headers={"Retry-After": "7"})
    responses.add(
        responses.GET,
        users,
        json=fixture("canvas", "account_users.page1"),
        headers={
            "Link": f"<{URL}/api/v1/accounts/1/users?page=bookmark:WzEwMl0&per_page=100>; "
            'rel="next"',
            "X-Rate-Limit-Remaining": "650.0",
            "X-Request-Cost": "1.2",
        },
        match=[
            responses.matchers.query_param_matcher(
                {"include[]": "email", "sort": "id", "per_page": "100"}
            )
        ],
    )
    responses.add(
        responses.GET,
        f"{URL}/api/v1/accounts/1/users?page=bookmark:WzEwMl0&per_page=100",
        json=fixture("canvas", "account_users.page2"),
        match=[responses.matchers.query_string_matcher("page=bookmark:WzEwMl0&per_page=100")],
    )
    responses.add(
        responses.GET,
        f"{URL}/api/v1/accounts/site_admin/admins",
        json=fixture("canvas", "site_admins"),
    )
    responses.add(
        responses.GET, f"{URL}/api/v1/accounts/1/courses", json=fixture("canvas", "account_courses")
    )
    for course in (500, 501):
        responses.add(
            responses.GET,
            f"{URL}/api/v1/courses/{course}/enrollments",
            json=fixture("canvas", f"enrollments_{course}"),
        )
    responses.add(
        responses.GET,
        f"{URL}/api/v1/courses/500/users/101/progress",
        json=fixture("canvas", "progress_500_101"),
    )
    responses.add(
        responses.GET,
        f"{URL}/api/v1/courses/501/users/103/progress",
        json=fixture("canvas", "progress_no_requirements"),
        status=400,
    )


@pytest.mark.parametrize("throttle", [None, "403", "429"])
@responses.activate
def test_sync_follows_bookmarks_and_backs_off(database: Database, throttle: str | None) -> None:
    register_site(throttle)
    delays: list[float] = []
    source = add_source(database, "canvas")
    result = sync(database, source.tenant_id, source.connector_id, connector(delays))

    assert result.status == "succeeded", result.errors
    people = members(database)
    # The site admin (user 1) is never a member; Eve has no email but is one.
    with database.transaction() as session:
        names = sorted(session.scalars(select(Member.display_name)))
    assert names == ["Ada Lovelace", "Dee Evans", "Eve Fox"]
    assert people["ada@example.org"].member_number == "M-100"
    assert responses.calls[0].request.headers["Authorization"] == "Bearer tok"
    if throttle == "403":
        assert delays == [0.375]  # equal jitter: half the 0.5 s ceiling plus half of that
    if throttle == "429":
        assert delays == [7.0]  # Retry-After wins over a shorter backoff
    with database.transaction() as session:
        roles = sorted(session.scalars(select(Enrolment.role)))
        facts = {(r.record_key, r.kind): r for r in session.scalars(select(LearningRecord))}
    assert roles == ["student", "student", "teacher"]
    grade = facts[("course:500:grade", "grade")]
    assert grade.score == 88.0 and grade.grade == "B+"
    assert facts[("course:500:progress", "progress")].progress == 75.0
    # Course 501 has no module requirements: HTTP 400 means no data, not a failure.
    assert not any(key.startswith("course:501:progress") for key, _ in facts)


@responses.activate
def test_throttling_that_never_ends_fails_cleanly(database: Database) -> None:
    responses.add(
        responses.GET,
        f"{URL}/api/v1/accounts/1/users",
        body="403 Forbidden (Rate Limit Exceeded)",
        status=403,
    )
    responses.add(responses.GET, f"{URL}/api/v1/accounts/site_admin/admins", status=401)
    delays: list[float] = []
    with pytest.raises(RateLimited, match="kept throttling"):
        list(connector(delays).iter_members())
    assert len(delays) == 4 and delays == sorted(delays)  # exponential, bounded


@pytest.mark.parametrize(
    ("headers", "kind", "message"),
    [
        (
            {"WWW-Authenticate": 'Bearer realm="canvas-lms"'},
            AuthenticationError,
            "refused the token",
        ),
        ({}, PermissionDenied, "not authorised"),
    ],
)
@responses.activate
def test_401_with_and_without_www_authenticate(headers: dict, kind: type, message: str) -> None:
    responses.add(
        responses.GET,
        f"{URL}/api/v1/users/self",
        json=fixture("canvas", "invalid_token" if headers else "unauthorized"),
        status=401,
        headers=headers,
    )
    with pytest.raises(kind, match=message):
        connector([]).check()
