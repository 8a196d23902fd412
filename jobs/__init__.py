"""Background work: an existing job queue (Procrastinate on PostgreSQL), the same job
functions run in-process on SQLite.

Parts declare job functions with :func:`task` and queue them with :func:`defer` inside
the transaction that caused them; ``tandem worker`` (or ``tandem serve --with-worker``)
runs them. See :mod:`jobs.engine` for the contract.
"""

from . import logs, metrics
from .admin import JobRow, busy_since, list_jobs, queue_counts, retry_job
from .engine import (
    DEFAULT_RETRY,
    JobContext,
    Runtime,
    attach,
    defer,
    periodic,
    queue,
    reason_of,
    run_job,
    task,
)
from .errors import JobError
from .local import drain
from .purge import purge_nightly
from .worker import run_worker, start_in_thread

__all__ = [
    "DEFAULT_RETRY",
    "JobContext",
    "JobError",
    "JobRow",
    "Runtime",
    "attach",
    "busy_since",
    "defer",
    "drain",
    "list_jobs",
    "logs",
    "metrics",
    "periodic",
    "purge_nightly",
    "queue",
    "queue_counts",
    "reason_of",
    "retry_job",
    "run_job",
    "run_worker",
    "start_in_thread",
    "task",
]
