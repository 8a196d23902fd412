"""Job functions for the queue's own tests: one that fails while told to, one that blocks.

Both are idempotent the way real jobs are: they write one audit row per success, keyed by
the job's ``key``, and skip when it is already there.
"""

from __future__ import annotations

import time
from pathlib import Path

from procrastinate.retry import RetryStrategy
from sqlalchemy import select

import jobs
from records import AuditEvent, record_event

FLAKY = "tests.flaky"
BLOCKING = "tests.blocking"
DONE = "tests.job_done"
# Fast backoff for the tests (the real jobs wait 2, 4, 8, 16, 32 s): 1, 2, 3 s; three
# retries after the first attempt.
FAST_RETRY = RetryStrategy(max_attempts=3, wait=1, linear_wait=1)


def done_keys(session) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(select(AuditEvent.subject_id).where(AuditEvent.action == DONE)).all()
    )


def _done(ctx: jobs.JobContext, key: str) -> None:
    if key in done_keys(ctx.session):
        return
    record_event(ctx.session, None, DONE, subject=("test", key))


@jobs.task(FLAKY, retry=FAST_RETRY)
def flaky(ctx: jobs.JobContext, *, key: str, fail_flag: str) -> None:
    """Fails (after writing, which the rollback undoes) while the file ``fail_flag`` exists."""
    record_event(ctx.session, None, "tests.half_done", subject=("test", key))
    if Path(fail_flag).exists():
        raise RuntimeError(f"the remote system is down (attempt {ctx.attempt})")
    _done(ctx, key)


@jobs.task(BLOCKING, retry=None)
def blocking(ctx: jobs.JobContext, *, key: str, hold_flag: str, started_flag: str) -> None:
    """Says it started, then waits while the file ``hold_flag`` exists (at most 60 s)."""
    Path(started_flag).write_text(str(ctx.attempt))
    deadline = time.monotonic() + 60
    while Path(hold_flag).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    _done(ctx, key)
