"""Prometheus metrics of the job layer (served by ``lti_tool`` at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

JOBS_RUNNING = Gauge("tandem_jobs_running", "Jobs running in this process", ["task"])
JOBS_FINISHED = Counter(
    "tandem_jobs_finished_total", "Jobs run in this process, by outcome", ["task", "outcome"]
)
EMAILS_SENT = Counter("tandem_emails_sent_total", "Emails sent", ["kind"])
SYNC_RUNS = Counter("tandem_sync_runs_total", "Connector sync runs", ["outcome"])
SYNC_ROWS = Counter("tandem_sync_rows_total", "Rows read by connector syncs")
