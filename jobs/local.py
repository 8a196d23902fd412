"""SQLite: jobs run in this process, after the commit that deferred them.

There is no queue table on SQLite (one process serves a small site): a job runs either
inline, right after its commit (commands, tests), or in one background thread of the
serving process, so the request that deferred it answers at once. Retries follow the
job's Procrastinate retry strategy; a job that is still failing after its last attempt
leaves one ``job.failed`` audit row with its reason. `tandem jobs list` and `retry` need
the PostgreSQL queue.
"""

from __future__ import annotations

import logging
import queue as queue_module
import threading
import time
from datetime import UTC, datetime
from typing import Any

from procrastinate.jobs import Job

from . import logs
from .engine import Runtime, run_job, task_spec

log = logging.getLogger("tandem.jobs")

_Item = tuple[float, str, dict[str, Any], int, "str | None"]


class ThreadRunner:
    """One daemon thread running submitted jobs in order, retrying failures later."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._items: queue_module.Queue[_Item] = queue_module.Queue()
        self._waiting = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._locks: set[str] = set()
        self._thread = threading.Thread(target=self._loop, name="tandem-jobs", daemon=True)
        self._thread.start()

    def submit(self, name: str, kwargs: dict[str, Any], queueing_lock: str | None) -> None:
        with self._lock:
            if queueing_lock is not None:
                if queueing_lock in self._locks:
                    return
                self._locks.add(queueing_lock)
            self._waiting += 1
        self._items.put((time.monotonic(), name, kwargs, 1, queueing_lock))

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until no job waits or runs (tests); returns whether that happened."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._waiting:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def _loop(self) -> None:
        while True:
            due, name, kwargs, attempt, queueing_lock = self._items.get()
            delay = due - time.monotonic()
            if delay > 0:
                if not self._items.empty():
                    # Something else may be due sooner: put this back and look again.
                    self._items.put((due, name, kwargs, attempt, queueing_lock))
                    time.sleep(min(delay, 0.05))
                    continue
                time.sleep(delay)
            retry_in = _attempt(self.runtime, name, kwargs, attempt)
            if retry_in is not None:
                self._items.put(
                    (time.monotonic() + retry_in, name, kwargs, attempt + 1, queueing_lock)
                )
                continue
            with self._idle:
                self._waiting -= 1
                self._locks.discard(queueing_lock or "")
                self._idle.notify_all()


def _attempt(runtime: Runtime, name: str, kwargs: dict[str, Any], attempt: int) -> float | None:
    """Run one attempt; seconds until the next one, or ``None`` when done (or given up)."""
    try:
        run_job(runtime, name, kwargs, attempt=attempt)
        return None
    except Exception as exc:
        retry_in = _retry_in(name, kwargs, exc, attempt)
        if retry_in is not None and runtime.local_mode == "thread":
            return retry_in
        _record_failure(runtime, name, exc, attempt)
        return None


def _retry_in(name: str, kwargs: dict[str, Any], exc: Exception, attempt: int) -> float | None:
    """Seconds until the next attempt, by the job's own Procrastinate retry strategy."""
    retry = task_spec(name).retry
    if retry is None:
        return None
    # As on the queue: ``attempts`` counts the attempts before this one, and
    # ``max_attempts`` is the number of retries after the first.
    job = Job(queue="local", lock=None, queueing_lock=None, task_name=name,
              task_kwargs=kwargs, attempts=attempt - 1)  # fmt: skip
    decision = retry.get_retry_decision(exception=exc, job=job)
    if decision is None or decision.retry_at is None:
        return None
    return max(0.0, (decision.retry_at - datetime.now(UTC)).total_seconds())


def _record_failure(runtime: Runtime, name: str, exc: Exception, attempt: int) -> None:
    # run_job kept the reason in an audit row; say that it is final.
    logs.event(log, logging.ERROR, "job.gave_up", task=name, attempt=attempt)


_RUNNERS: dict[int, ThreadRunner] = {}
_RUNNERS_LOCK = threading.Lock()


def runner(runtime: Runtime) -> ThreadRunner:
    """This process's thread runner for ``runtime`` (started on first use, after any fork)."""
    with _RUNNERS_LOCK:
        current = _RUNNERS.get(id(runtime))
        if current is None or not current._thread.is_alive():
            current = _RUNNERS[id(runtime)] = ThreadRunner(runtime)
        return current


def submit(
    runtime: Runtime, name: str, kwargs: dict[str, Any], *, queueing_lock: str | None = None
) -> None:
    """Run a committed job: inline now, or on the process's job thread."""
    if runtime.local_mode == "thread":
        runner(runtime).submit(name, kwargs, queueing_lock)
    else:
        _attempt(runtime, name, kwargs, 1)


def drain(runtime: Runtime, timeout: float = 30.0) -> bool:
    """Wait for the job thread of ``runtime`` to be idle (nothing to wait for inline)."""
    current = _RUNNERS.get(id(runtime))
    return True if current is None else current.drain(timeout)
