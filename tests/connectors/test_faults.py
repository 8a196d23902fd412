"""Faults over a real loopback server: timeouts, 5xx, malformed JSON, death mid-pagination."""

from __future__ import annotations

import time

import pytest

from connectors import MalformedResponse, SyncFailed, Unreachable, sync
from connectors.canvas import CanvasConnector
from records import Database, Member
from tests.support.remote import fixture, loopback_server, send_json

from .conftest import add_source, count, cursor, last_run

USERS = "/api/v1/accounts/1/users"
# Who the platform's own accounts are: answered before the users are listed.
ADMIN_PATHS = ("/api/v1/accounts/site_admin", "/api/v1/accounts/1/admins", "/api/v1/users/self")


def canvas(url: str, delays: list[float], **http) -> CanvasConnector:
    http.setdefault("max_retries", 2)
    return CanvasConnector(url, "tok", {"account_id": 1}, sleep=delays.append, **http)


def test_timeout_is_retried_then_reported() -> None:
    def slow(request):
        time.sleep(0.6)
        send_json(request, [])

    delays: list[float] = []
    with loopback_server(slow) as url, pytest.raises(Unreachable) as failure:
        list(canvas(url, delays, timeout=0.2, max_retries=1).iter_members())
    assert "did not answer within 0.2 s" in str(failure.value)
    assert len(delays) == 1


def test_5xx_then_success_is_retried_with_growing_delays() -> None:
    answers = iter([502, 503])

    def flaky(request):
        if request.path.startswith(ADMIN_PATHS):
            return send_json(request, [])
        status = next(answers, 200)
        send_json(
            request, fixture("canvas", "account_users.page1") if status == 200 else {}, status
        )

    delays: list[float] = []
    with loopback_server(flaky) as url:
        people = list(canvas(url, delays).iter_members())
    assert len(people) == 2 and len(delays) == 2 and delays[1] > delays[0]


def test_malformed_json_is_retried_then_fails_cleanly() -> None:
    def broken(request):
        body = b'[{"id": 101, "name": '
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    with loopback_server(broken) as url, pytest.raises(MalformedResponse, match="not JSON"):
        list(canvas(url, []).iter_members())


def test_source_dying_mid_pagination_keeps_batches_and_cursor_then_resumes(
    database: Database,
) -> None:
    state = {"dead": True}

    def site(request):
        if request.path.startswith(ADMIN_PATHS):
            return send_json(request, fixture("canvas", "site_admins"))
        if "page=2" in request.path:
            if state["dead"]:
                request.close_connection = True
                request.connection.close()  # the server dies mid-run
                return
            return send_json(request, fixture("canvas", "account_users.page2"))
        host = request.headers["Host"]
        send_json(
            request,
            fixture("canvas", "account_users.page1"),
            headers={"Link": f'<http://{host}{USERS}?page=2&per_page=100>; rel="next"'},
        )

    source = add_source(database, "canvas")
    with loopback_server(site) as url:
        with pytest.raises(SyncFailed) as failure:
            sync(
                database,
                source.tenant_id,
                source.connector_id,
                canvas(url, []),
                batch_size=1,
                phases=("members",),
            )
        assert "cannot reach Canvas" in str(failure.value)
        # The two batches of page 1 are written whole; the cursor did not move.
        assert count(database, Member) == 2
        assert cursor(database, source.connector_id) == {}
        assert last_run(database).status == "failed"

        state["dead"] = False
        result = sync(
            database,
            source.tenant_id,
            source.connector_id,
            canvas(url, []),
            batch_size=1,
            phases=("members",),
        )
    assert result.status == "succeeded"
    assert result.kinds["members"] == [1, 0]  # only Eve is new; page 1 is unchanged
    assert count(database, Member) == 3 and cursor(database, source.connector_id)["since"]
