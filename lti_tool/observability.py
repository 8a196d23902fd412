"""What operators watch: ``/metrics`` (Prometheus) and one log line per request.

``/metrics`` answers only with ``Authorization: Bearer <TANDEM_METRICS_TOKEN>`` (404 when
no token is configured, so nothing is exposed by default). With several gunicorn workers
set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder: each worker's figures are then added
up. With ``TANDEM_LOG_FORMAT=json`` each request writes one JSON line: method, route
(the URL rule, never the path: links carry tokens), status, milliseconds.
"""

from __future__ import annotations

import hmac
import logging
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

import jobs
import records

log = logging.getLogger("tandem.requests")

bp = Blueprint("observability", __name__)

REQUEST_SECONDS = Histogram(
    "tandem_request_seconds",
    "Request latency by route",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REQUESTS = Counter("tandem_requests_total", "Requests by route and status", ["route", "status"])
LAUNCHES = Counter(
    "tandem_launches_total", "LTI launches, accepted or refused by reason", ["outcome", "reason"]
)
QUEUE_JOBS = Gauge(
    "tandem_queue_jobs",
    "Jobs in the queue by task and status (todo, doing, failed)",
    ["task", "status"],
    multiprocess_mode="liveall",
)


def count_launch(reason: str | None) -> None:
    """Count a launch: accepted (``reason`` None) or refused for ``reason``."""
    LAUNCHES.labels(outcome="refused" if reason else "accepted", reason=reason or "").inc()


def init_app(app: Flask) -> None:
    """Time and log every request; serve ``/metrics``."""
    if app.config.get("TANDEM_LOG_FORMAT"):
        jobs.logs.configure(app.config["TANDEM_LOG_FORMAT"])
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)


def _start() -> None:
    g.tandem_started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.pop("tandem_started", None)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    route = request.url_rule.rule if request.url_rule is not None else "(no route)"
    REQUEST_SECONDS.labels(route=route, method=request.method).observe(seconds)
    REQUESTS.labels(route=route, status=str(response.status_code)).inc()
    jobs.logs.event(
        log,
        logging.INFO,
        "request",
        method=request.method,
        route=route,
        status=response.status_code,
        ms=round(seconds * 1000, 1),
    )
    return response


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus exposition, for a scraper holding the metrics token."""
    token = current_app.config.get("TANDEM_METRICS_TOKEN")
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        abort(401, "This needs the metrics token.")
    QUEUE_JOBS.clear()
    for (task, status), count in jobs.queue_counts(records.get_session()).items():
        QUEUE_JOBS.labels(task=task, status=status).set(count)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = DEFAULT_REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
