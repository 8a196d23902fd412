"""Running the jobs a test's requests queued, on either backend."""

from __future__ import annotations

from flask import Flask

import jobs


def run_jobs(app: Flask) -> None:
    """Run every job that is due: a real Procrastinate worker on PostgreSQL (until the
    queue has nothing due), the in-process runner on SQLite."""
    runtime: jobs.Runtime = app.extensions["tandem.jobs"]
    if runtime.on_postgresql:
        jobs.run_worker(runtime, wait=False, concurrency=1, polling_interval=0.1)
    else:
        assert jobs.drain(runtime, timeout=30)
