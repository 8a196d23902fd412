"""Running the jobs a test's requests queued, on either backend."""

from __future__ import annotations

import threading

from flask import Flask

import jobs


def run_jobs(app: Flask) -> None:
    """Run every job that is due: a real Procrastinate worker on PostgreSQL (until the
    queue has nothing due), the in-process runner on SQLite."""
    run_due(app.extensions["tandem.jobs"])


def run_due(runtime: jobs.Runtime) -> None:
    """:func:`run_jobs` for a runtime a test attached itself (no app)."""
    if runtime.on_postgresql:
        # On a thread of its own: the worker runs an asyncio loop, and a caller inside
        # Playwright's sync API already has one running in this thread.
        failures: list[BaseException] = []

        def work() -> None:
            try:
                jobs.run_worker(runtime, wait=False, concurrency=1, polling_interval=0.1)
            except BaseException as exc:  # handed to the test below
                failures.append(exc)

        worker = threading.Thread(target=work, name="test-jobs")
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "the queued jobs did not finish within 60 s"
        if failures:
            raise failures[0]
    else:
        assert jobs.drain(runtime, timeout=30)
