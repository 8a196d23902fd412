"""Declaring job functions, deferring jobs, and running one job: the same on both backends.

On PostgreSQL the queue is Procrastinate's: :func:`defer` inserts the job on the caller's
own database connection, inside the caller's transaction, so a rolled-back request leaves
no job and a committed one never loses its job; workers on any host run it. On SQLite
(the demo, small single-host sites) there is no queue table: a deferred job waits in the
session until it commits and then runs in this process (:mod:`jobs.local`). Either way
the job function is called by :func:`run_job`, in a transaction of its own, with ids in
its arguments (never ORM objects), so a retried job reloads what it needs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from weakref import WeakKeyDictionary

import procrastinate
from procrastinate import exceptions as queue_errors
from procrastinate.manager import JobManager
from procrastinate.retry import RetryStrategy
from procrastinate.tasks import configure_task
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from records import Database, SecretBox, record_event

from . import logs
from .errors import JobError

log = logging.getLogger("tandem.jobs")

# The one Procrastinate app: it holds the task registry (names, retry strategies) that
# workers read. Workers open it on a connector of their own (jobs.worker); deferring
# never uses its connector but the caller's connection.
queue = procrastinate.App(connector=procrastinate.PsycopgConnector())

# Default for jobs that talk to remote systems: 5 retries after the first attempt, waiting
# 2, 4, 8, 16, 32 s (about a minute in all), then the job waits for `tandem jobs retry`.
DEFAULT_RETRY = RetryStrategy(max_attempts=5, exponential_wait=2)


@dataclass
class Runtime:
    """What a job function may use besides its arguments: the database, secrets, settings.

    Built once per process from the app's configuration (``lti_tool`` does it).
    ``local_mode`` says how SQLite runs jobs: ``"inline"`` right after the commit that
    deferred them (commands, tests), ``"thread"`` in a background thread of the serving
    process, so a request answers at once.
    """

    database: Database
    box: SecretBox
    settings: Mapping[str, Any] = field(default_factory=dict)
    local_mode: str = "inline"

    @property
    def on_postgresql(self) -> bool:
        return self.database.engine.dialect.name == "postgresql"


@dataclass
class JobContext:
    """What a job function gets first: a session in the job's transaction, and more."""

    session: Session
    runtime: Runtime
    job_id: int | None
    attempt: int

    @property
    def box(self) -> SecretBox:
        return self.runtime.box

    @property
    def settings(self) -> Mapping[str, Any]:
        return self.runtime.settings

    @contextmanager
    def side_transaction(self) -> Iterator[Session]:
        """A separate, short transaction (progress others should see before the job ends)."""
        with self.runtime.database.transaction() as session:
            yield session


@dataclass(frozen=True)
class TaskSpec:
    name: str
    func: Callable[..., Any]
    retry: RetryStrategy | None
    failure_action: str


_TASKS: dict[str, TaskSpec] = {}
_RUNTIMES: WeakKeyDictionary[Engine, Runtime] = WeakKeyDictionary()
_PENDING = "tandem.jobs.pending"


def task(
    name: str,
    *,
    retry: RetryStrategy | None = DEFAULT_RETRY,
    failure_action: str = "job.attempt_failed",
) -> Callable:
    """Declare a job function ``func(ctx: JobContext, **ids)`` under ``name``.

    The function must be idempotent: a retried or re-delivered job runs it again. Each
    failed attempt leaves one audit row, ``failure_action``, with the reason (in the
    job's tenant when its arguments name a ``tenant_id``).
    """

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in _TASKS:
            raise JobError(f"a job named {name!r} is already declared")
        _TASKS[name] = TaskSpec(name=name, func=func, retry=retry, failure_action=failure_action)

        def on_worker(context: procrastinate.JobContext, **kwargs: Any) -> None:
            assert context.job is not None and context.additional_context is not None
            run_job(
                context.additional_context["tandem"],
                name,
                kwargs,
                job_id=context.job.id,
                attempt=context.job.attempts + 1,
            )

        queue.task(name=name, pass_context=True, retry=retry or False)(on_worker)
        return func

    return register


def periodic(name: str, *, cron: str, retry: RetryStrategy | None = None) -> Callable:
    """Declare job ``func(ctx, *, timestamp)`` and run it on Procrastinate's ``cron``
    schedule (one run per due time, whichever worker defers it first)."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        task(name, retry=retry)(func)
        queue.periodic(cron=cron)(queue.tasks[name])
        return func

    return register


def task_spec(name: str) -> TaskSpec:
    try:
        return _TASKS[name]
    except KeyError as exc:
        raise JobError(f"no job named {name!r}") from exc


def attach(runtime: Runtime) -> None:
    """Make ``runtime`` the one that jobs deferred on its database run with (SQLite)."""
    _RUNTIMES[runtime.database.engine] = runtime


def runtime_of(engine: Engine) -> Runtime:
    try:
        return _RUNTIMES[engine]
    except KeyError as exc:
        raise JobError("no job runtime is attached to this database") from exc


def defer(
    session: Session,
    name: str,
    *,
    queueing_lock: str | None = None,
    lock: str | None = None,
    schedule_in: timedelta | None = None,
    **kwargs: Any,
) -> bool:
    """Defer job ``name`` with ``kwargs`` (ids and plain values) in ``session``'s transaction.

    ``queueing_lock``: while a job with this lock waits, no second one is queued (returns
    ``False``). ``lock``: jobs sharing it run one at a time, whichever host runs them.

    Returns:
        whether a job was queued.
    """
    task_spec(name)
    json.dumps(kwargs)  # ids and plain values only: fail here, not in the worker
    if session.get_bind().dialect.name == "postgresql":
        return _defer_on_postgresql(session, name, queueing_lock, lock, schedule_in, kwargs)
    _defer_locally(session, name, queueing_lock, kwargs)
    return True


# Deferring on the caller's connection needs a job manager whose connector is never
# opened: a synchronous psycopg one runs the insert on the connection it is given.
_DEFER_MANAGER = JobManager(procrastinate.SyncPsycopgConnector())


def _defer_on_postgresql(
    session: Session,
    name: str,
    queueing_lock: str | None,
    lock: str | None,
    schedule_in: timedelta | None,
    kwargs: dict[str, Any],
) -> bool:
    connection = session.connection().connection.driver_connection
    options: dict[str, Any] = {"queueing_lock": queueing_lock, "lock": lock}
    if schedule_in is not None:
        options["schedule_in"] = {"seconds": schedule_in.total_seconds()}
    deferrer = configure_task(
        name=name, job_manager=_DEFER_MANAGER, connection=connection, **options
    )
    try:
        # A savepoint: a refused duplicate must not abort the caller's transaction.
        with session.begin_nested():
            deferrer.defer(**kwargs)
    except queue_errors.AlreadyEnqueued:
        return False
    logs.event(log, logging.DEBUG, "job.deferred", task=name)
    return True


def _defer_locally(
    session: Session, name: str, queueing_lock: str | None, kwargs: dict[str, Any]
) -> None:
    runtime_of(session.get_bind())  # refuse now if nothing could run it
    session.connection()  # the job belongs to this transaction: begin it if need be
    pending: list[tuple[str, str | None, dict[str, Any]]] = session.info.setdefault(_PENDING, [])
    if queueing_lock is not None and any(q == queueing_lock for _, q, _ in pending):
        return
    pending.append((name, queueing_lock, kwargs))
    if not event.contains(session, "after_commit", _hand_over):
        event.listen(session, "after_commit", _hand_over)
        event.listen(session, "after_soft_rollback", _forget)


def _forget(session: Session, previous_transaction: Any) -> None:
    # A rolled-back savepoint keeps the outer transaction (and its jobs) going.
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def _hand_over(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    from .local import submit

    runtime = runtime_of(session.get_bind())
    for name, queueing_lock, kwargs in pending:
        submit(runtime, name, kwargs, queueing_lock=queueing_lock)


def run_job(
    runtime: Runtime,
    name: str,
    kwargs: Mapping[str, Any],
    *,
    job_id: int | None = None,
    attempt: int = 1,
) -> Any:
    """Run job function ``name`` in a transaction of its own: the one place jobs run.

    Writes one log line per job (name, id, attempt, outcome, seconds; never arguments,
    which may carry addresses). Raises what the job raised, after rolling back.
    """
    from . import metrics

    spec = task_spec(name)
    started = time.perf_counter()
    metrics.JOBS_RUNNING.labels(task=name).inc()
    outcome, error = "succeeded", None
    try:
        with runtime.database.transaction() as session:
            return spec.func(
                JobContext(session=session, runtime=runtime, job_id=job_id, attempt=attempt),
                **kwargs,
            )
    except Exception as exc:
        outcome = "failed"
        # The reason goes to the queue (and `tandem jobs list`); the log line names
        # only the error's type: messages may quote remote answers or addresses.
        error = type(exc).__name__
        _keep_reason(runtime, spec, kwargs, job_id, attempt, exc)
        raise
    finally:
        seconds = time.perf_counter() - started
        metrics.JOBS_RUNNING.labels(task=name).dec()
        metrics.JOBS_FINISHED.labels(task=name, outcome=outcome).inc()
        logs.event(
            log,
            logging.INFO if error is None else logging.WARNING,
            "job",
            task=name,
            job_id=job_id,
            attempt=attempt,
            outcome=outcome,
            error=error,
            seconds=round(seconds, 4),
        )


def _keep_reason(
    runtime: Runtime,
    spec: TaskSpec,
    kwargs: Mapping[str, Any],
    job_id: int | None,
    attempt: int,
    exc: Exception,
) -> None:
    """Keep why an attempt failed, for `tandem jobs list` (the queue keeps only states)."""
    tenant_id = kwargs.get("tenant_id")
    try:
        with runtime.database.transaction() as session:
            record_event(
                session,
                tenant_id if isinstance(tenant_id, int) else None,
                spec.failure_action,
                actor_member_id=kwargs.get("member_id"),
                subject=("job", str(job_id) if job_id is not None else spec.name),
                detail={"task": spec.name, "attempt": attempt, "reason": reason_of(exc)},
            )
    except Exception:  # the database may be what failed: the job's own log line remains
        log.exception("could not keep the failure reason of job %s", spec.name)


def reason_of(exc: BaseException) -> str:
    """One line saying why: the error's type and its message, clipped."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}"[:250] if message else type(exc).__name__
