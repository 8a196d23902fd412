"""/metrics behind its token, and one JSON log line per request and per job, no secrets."""

from __future__ import annotations

import io
import json
import logging
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.support.jobs import run_jobs
from tests.support.lti_platform import TestPlatform

from .test_advantage import ADA, GRACE

TOKEN = "metrics-token-0123456789"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "TANDEM_METRICS_TOKEN": TOKEN, "TANDEM_LOG_FORMAT": "json"}


@pytest.fixture
def log_lines(app: Flask) -> io.StringIO:
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "tandem", False)]
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    return stream


def test_metrics_need_the_token(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert TOKEN not in wrong.get_data(as_text=True)
    app.config["TANDEM_METRICS_TOKEN"] = None
    assert client.get("/metrics").status_code == 404  # off unless configured


def test_metrics_count_launches_requests_and_queued_jobs(
    app: Flask, client, platform: TestPlatform, backend: str
) -> None:  # type: ignore[no-untyped-def]
    platform.roster = [GRACE, ADA]
    response = platform.launch(client, GRACE, nrps=True)
    assert urlsplit(response.headers["Location"]).path == "/coordinator"
    page = client.get("/coordinator").get_data(as_text=True)
    if backend == "postgresql":
        # The launch answered before the import: the page says so (of the one member the
        # course is known to have, the coordinator), then no more.
        assert "Importing the course roster: 0 of 1." in page
    client.post("/lti/launch", data={"id_token": "not-a-jwt", "state": "x"})
    body = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
        as_text=True
    )
    assert 'tandem_launches_total{outcome="accepted",reason=""}' in body
    assert 'tandem_launches_total{outcome="refused"' in body
    assert 'tandem_request_seconds_count{method="POST",route="/lti/launch"}' in body
    if backend == "postgresql":
        assert 'tandem_queue_jobs{status="todo",task="platforms.import_roster"} 1.0' in body
    run_jobs(app)
    assert "Importing the course roster" not in client.get("/coordinator").get_data(as_text=True)


def test_json_log_lines_name_routes_not_paths(
    app: Flask, client, platform: TestPlatform, log_lines: io.StringIO
) -> None:  # type: ignore[no-untyped-def]
    client.get("/portal/nosso/link/SECRET-LINK-TOKEN")
    client.post("/lti/launch", data={"id_token": "not-a-jwt", "state": "x"})
    platform.launch(client, GRACE, nrps=True)
    run_jobs(app)
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    text = log_lines.getvalue()
    assert "SECRET-LINK-TOKEN" not in text and "not-a-jwt" not in text
    requests_ = [line for line in lines if line.get("event") == "request"]
    assert {"route": "/portal/<name>/link/<token>", "status": 404} in [
        {"route": r["route"], "status": r["status"]} for r in requests_
    ]
    refused = [
        line
        for line in lines
        if line.get("event") == "audit" and line.get("action") == "lti.launch_refused"
    ]
    assert len(refused) == 1 and refused[0]["reason"]
    ran = [
        line
        for line in lines
        if line.get("event") == "job" and line.get("task") == "platforms.import_roster"
    ]
    assert [(j["task"], j["outcome"]) for j in ran] == [("platforms.import_roster", "succeeded")]
    assert all(set(j) <= {"time", "level", "logger", "event", "task", "job_id", "attempt",
                          "outcome", "seconds"} for j in ran)  # fmt: skip
