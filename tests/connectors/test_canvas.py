"""Canvas: bookmark paging, throttling both ways, progress 400 as no data, 401 twice over."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from sqlalchemy import select

from connectors import AuthenticationError, PermissionDenied, RateLimited, sync
from connectors.canvas import CanvasConnector
from connectors.canvas.client import CanvasRequester
from records import Database, Enrolment, LearningRecord, Member
from tests.support.remote import fixture, loopback_server, send_json

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
        f"{URL}/api/v1/accounts/1/admins",
        json=fixture("canvas", "account_admins"),
    )
    responses.add(responses.GET, f"{URL}/api/v1/users/self", json=fixture("canvas", "self"))
    responses.add(
        responses.GET,
        f"{URL}/api/v1/courses/500/bulk_user_progress",
        json=fixture("canvas", "bulk_progress_500"),
    )
    responses.add(
        responses.GET,
        f"{URL}/api/v1/courses/501/bulk_user_progress",
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
        assert delays == [1.0]  # a brief wait for the bucket to leak, not a growing backoff
    if throttle == "429":
        assert delays == [7.0]  # Retry-After wins over a shorter backoff
    with database.transaction() as session:
        roles = sorted(session.scalars(select(Enrolment.role)))
        facts = {(r.record_key, r.kind): r for r in session.scalars(select(LearningRecord))}
    assert roles == ["student", "student", "teacher"]
    grade = facts[("course:500:grade", "grade")]
    # Canvas shows the current score (graded work only); the final one is kept beside it.
    assert grade.score == 91.5 and grade.grade == "A-"
    assert grade.detail == {"final_score": 88.0, "final_grade": "B+"}
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
    for path in ("accounts/site_admin/admins", "accounts/1/admins", "users/self"):
        responses.add(responses.GET, f"{URL}/api/v1/{path}", status=401)
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


# -- what Canvas really answers (issue 16 items 8-12) --------------------------------------


@responses.activate
def test_ended_enrolments_are_asked_for_and_kept(database: Database) -> None:
    # Item 8: without state[], Canvas lists active and invited enrolments only.
    register_site()
    source = add_source(database, "canvas")
    sync(database, source.tenant_id, source.connector_id, connector([]))
    asked = [
        call.request.url
        for call in responses.calls
        if call.request.url.split("?")[0].endswith("/enrollments")
    ]
    assert asked
    for url in asked:
        states = parse_qs(urlsplit(url).query)["state[]"]
        assert {"active", "invited", "completed", "inactive"} <= set(states)
    with database.transaction() as session:
        statuses = set(session.scalars(select(Enrolment.status)))
    assert "completed" in statuses  # Eve's finished course is in her history


@responses.activate
def test_the_grade_is_the_current_score_with_the_final_beside_it(database: Database) -> None:
    # Item 9: final_score counts ungraded work as zero; Canvas shows the current score.
    register_site()
    source = add_source(database, "canvas")
    sync(database, source.tenant_id, source.connector_id, connector([]))
    with database.transaction() as session:
        grade = session.scalars(select(LearningRecord).where(LearningRecord.kind == "grade")).one()
    assert (grade.score, grade.grade) == (91.5, "A-")
    assert (grade.detail["final_score"], grade.detail["final_grade"]) == (88.0, "B+")


@responses.activate
def test_account_admins_and_the_tokens_user_are_not_members_unless_learners(
    database: Database,
) -> None:
    # Item 10: the token's user (3) and an account admin (104) appear in the account's
    # users; 104 is also a student of course 500, so 104 is a member and 3 is not.
    register_site()
    users = f"{URL}/api/v1/accounts/1/users"
    page2 = [
        *fixture("canvas", "account_users.page2"),
        {"id": 3, "name": "Tandem Sync", "sortable_name": "Sync, Tandem", "login_id": "sync"},
        {"id": 104, "name": "Registrar Rae", "sortable_name": "Rae, Registrar", "login_id": "rae"},
    ]
    responses.replace(responses.GET, f"{users}?page=bookmark:WzEwMl0&per_page=100", json=page2)
    enrolments = [
        *fixture("canvas", "enrollments_500"),
        {
            "id": 9010, "course_id": 500, "enrollment_state": "active",
            "type": "TeacherEnrollment", "user_id": 3, "role": "TeacherEnrollment",
            "user": {"id": 3, "name": "Tandem Sync", "sortable_name": "Sync, Tandem"},
        },
        {
            "id": 9011, "course_id": 500, "enrollment_state": "active",
            "type": "StudentEnrollment", "user_id": 104, "role": "StudentEnrollment",
            "grades": {"current_score": 70.0, "final_score": 60.0},
            "user": {"id": 104, "name": "Registrar Rae", "sortable_name": "Rae, Registrar"},
        },
    ]  # fmt: skip
    responses.replace(responses.GET, f"{URL}/api/v1/courses/500/enrollments", json=enrolments)
    source = add_source(database, "canvas")
    result = sync(database, source.tenant_id, source.connector_id, connector([]))
    assert result.status == "succeeded", result.errors
    with database.transaction() as session:
        names = sorted(session.scalars(select(Member.display_name)))
    assert names == ["Ada Lovelace", "Dee Evans", "Eve Fox", "Registrar Rae"]


def test_requests_are_paced_by_the_rate_limit_headers() -> None:
    # Item 11: pace by X-Rate-Limit-Remaining / X-Request-Cost before the wall...
    answers = iter(["low", "403", "403", "403", "ok"])

    def site(request):
        kind = next(answers, "ok")
        if kind == "403":
            request.send_response(403)
            body = b"403 Forbidden (Rate Limit Exceeded)"
            request.send_header("Content-Type", "text/plain")
            request.send_header("Content-Length", str(len(body)))
            request.send_header("X-Request-Cost", "1.0")
            request.end_headers()
            request.wfile.write(body)
            return
        remaining = "20.0" if kind == "low" else "600.0"
        send_json(
            request, [], headers={"X-Rate-Limit-Remaining": remaining, "X-Request-Cost": "5.0"}
        )

    delays: list[float] = []
    client = CanvasRequester("http://x", "tok", workers=1, sleep=delays.append)
    with loopback_server(site) as url:
        client.base_url = url
        client.request_json("GET", "api/v1/a")
        client.request_json("GET", "api/v1/b")
    # ...then a brief wait on each 403 (the bucket leaks), never a growing backoff.
    paced, *throttled = delays
    assert 2.5 < paced <= (50.0 + 1.8 - 20.0) / 10.0
    assert throttled == [1.0, 1.0, 1.0]


def _bulk_site(progress_status: int, calls: list[str], in_flight: list[int]):  # type: ignore[no-untyped-def]
    import threading
    import time

    lock = threading.Lock()
    now = {"n": 0}
    courses = [{"id": 600 + i, "name": f"C{i}", "workflow_state": "available"} for i in range(8)]

    def site(request):
        path = request.path.split("?")[0]
        with lock:
            calls.append(path)
            now["n"] += 1
            in_flight.append(now["n"])
        try:
            if path.endswith("/courses"):
                return send_json(request, courses)
            if path.endswith("/enrollments"):
                time.sleep(0.05)  # long enough for the pool's requests to overlap
                course = int(path.split("/")[4])
                return send_json(
                    request,
                    [
                        {
                            "id": course * 10 + n, "course_id": course,
                            "enrollment_state": "active", "type": "StudentEnrollment",
                            "user_id": 700 + n, "updated_at": "2024-06-01T12:00:00Z",
                            "grades": {"current_score": 50.0 + n},
                            "user": {"id": 700 + n, "name": f"S{n}", "sortable_name": f"S, {n}"},
                        }
                        for n in range(3)
                    ],
                )  # fmt: skip
            if path.endswith("/bulk_user_progress"):
                if progress_status != 200:
                    return send_json(request, {"errors": [{"message": "not found"}]}, 404)
                return send_json(
                    request,
                    [
                        {"id": 700 + n, "display_name": f"S{n}", "progress": {
                            "requirement_count": 4, "requirement_completed_count": n,
                            "next_requirement_url": None, "completed_at": None}}
                        for n in range(3)
                    ],
                )  # fmt: skip
            if path.endswith("/progress"):
                return send_json(
                    request,
                    {
                        "requirement_count": 4,
                        "requirement_completed_count": 2,
                        "completed_at": None,
                    },
                )
            return send_json(request, [])
        finally:
            with lock:
                now["n"] -= 1

    return site


@pytest.mark.parametrize("bulk", [True, False])
def test_progress_comes_in_one_request_per_course_from_a_small_pool(bulk: bool) -> None:
    # Item 12: bulk_user_progress instead of one request per student; a bounded pool.
    calls: list[str] = []
    in_flight: list[int] = []
    with loopback_server(_bulk_site(200 if bulk else 404, calls, in_flight)) as url:
        canvas = CanvasConnector(url, "tok", {"account_id": 1, "workers": 4}, sleep=lambda s: None)
        facts = [f for f in canvas.iter_learning_records(None) if f.kind == "progress"]
    assert len(facts) == 8 * 3
    per_student = [c for c in calls if c.endswith("/progress") and "/users/" in c]
    bulk_calls = [c for c in calls if c.endswith("/bulk_user_progress")]
    assert len(bulk_calls) == 8
    assert len(per_student) == (0 if bulk else 8 * 3)  # a Canvas without it: one each
    # Overlapped, and never more than the pool of 4 plus the one read-ahead users page.
    assert 2 <= max(in_flight) <= 4 + 1


def test_pages_are_read_ahead_while_the_caller_writes_and_stop_when_it_leaves() -> None:
    # Item 12: one page of read-ahead left the users stream waiting on each page after
    # a batch was written; the pages now keep coming, within a bounded queue.
    import time

    from connectors.canvas.client import READ_AHEAD

    calls: list[int] = []
    PAGES = READ_AHEAD + 40

    def site(request):  # type: ignore[no-untyped-def]
        page = int(parse_qs(urlsplit(request.path).query).get("page", ["1"])[0])
        calls.append(page)
        host = request.headers["Host"]
        link = f'<http://{host}/api/v1/accounts/1/users?page={page + 1}>; rel="next"'
        send_json(request, [{"id": page}], headers={"Link": link} if page < PAGES else None)

    def settled() -> int:
        seen, deadline = -1, time.monotonic() + 5
        while len(calls) != seen and time.monotonic() < deadline:
            seen = len(calls)
            time.sleep(0.3)
        return seen

    with loopback_server(site) as url:
        client = CanvasRequester(url, "tok", workers=4)
        pages = client.iter_pages("api/v1/accounts/1/users", read_ahead=True)
        assert next(pages) == [{"id": 1}]
        held = settled()  # the caller is busy with page 1: the reader goes on, then waits
        # READ_AHEAD waiting, one being put, one being read; never the whole stream.
        assert 6 <= held <= READ_AHEAD + 4 < PAGES
        pages.close()
        assert settled() == held  # a caller that leaves stops the reader
        assert [
            p[0]["id"] for p in client.iter_pages("api/v1/accounts/1/users", read_ahead=True)
        ] == list(range(1, PAGES + 1))
        client.close()
