"""`tandem worker`: a Procrastinate worker on the PostgreSQL queue, that outlives outages.

Any number of workers on any number of hosts share the queue. A worker that dies
mid-job (killed, host lost) stops sending heartbeats; the next worker to start, and a
periodic job every minute, put its jobs back in the queue (they are idempotent). When
the database goes away the worker stops, waits (1, 2, 4 ... 30 s) and starts again,
rather than exiting and crash-looping under a supervisor.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from typing import Any

import procrastinate
import psycopg
from procrastinate import exceptions as queue_errors
from procrastinate.worker import Worker

from . import logs
from .engine import Runtime, queue

log = logging.getLogger("tandem.jobs")

HEARTBEAT_SECONDS = 5.0
# A worker silent this long is taken for dead and its running jobs are queued again.
STALLED_AFTER_SECONDS = 20.0
MAX_OUTAGE_WAIT_SECONDS = 30.0
# Errors that mean "the database is not there (now)": wait and start again.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    queue_errors.ConnectorException,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    OSError,
)


def conninfo(runtime: Runtime) -> str:
    """The libpq connection string of the runtime's database (psycopg's URL form)."""
    url = runtime.database.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


# The one app's tasks (periodic ones included) defer through the app itself, so a worker
# runs the app on its own connector; one worker per process at a time.
_ONE_WORKER = threading.Lock()


async def requeue_stalled(app: procrastinate.App, stalled_after: float) -> int:
    """Put back in the queue the running jobs of workers silent for ``stalled_after`` s."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after)
    for job in stalled:
        await app.job_manager.retry_job(job)
        logs.event(log, logging.WARNING, "job.requeued", task=job.task_name, job_id=job.id)
    return len(list(stalled))


@queue.periodic(cron="* * * * *")
@queue.task(name="jobs.requeue_stalled", pass_context=True, queueing_lock="jobs.requeue_stalled")
async def _requeue_stalled_every_minute(context: procrastinate.JobContext, timestamp: int) -> None:
    await requeue_stalled(context.app, STALLED_AFTER_SECONDS)


async def _run_once(
    runtime: Runtime,
    stop: threading.Event,
    *,
    wait: bool,
    concurrency: int,
    stalled_after: float,
    heartbeat: float,
    polling_interval: float,
) -> None:
    connector = procrastinate.PsycopgConnector(conninfo=conninfo(runtime))
    with queue.replace_connector(connector) as app:
        await _work(app, runtime, stop, wait, concurrency, stalled_after, heartbeat,
                    polling_interval)  # fmt: skip


async def _work(app: procrastinate.App, runtime: Runtime, stop: threading.Event,
                *options: Any) -> None:  # fmt: skip
    wait, concurrency, stalled_after, heartbeat, polling_interval = options
    async with app.open_async():
        await requeue_stalled(app, stalled_after)
        worker = Worker(
            app=app,
            concurrency=concurrency,
            wait=wait,
            additional_context={"tandem": runtime},
            # Ours (run_worker) set ``stop``: Procrastinate's would stop the worker without
            # telling us, and we would take that for an outage and start again.
            install_signal_handlers=False,
            update_heartbeat_interval=heartbeat,
            stalled_worker_timeout=stalled_after,
            fetch_job_polling_interval=polling_interval,
            delete_jobs="successful",
        )
        running = asyncio.create_task(worker.run())
        while not running.done():
            if stop.is_set():
                worker.stop()
            await asyncio.wait({running}, timeout=0.2)
        running.result()


def run_worker(
    runtime: Runtime,
    *,
    wait: bool = True,
    stop: threading.Event | None = None,
    concurrency: int = 2,
    stalled_after: float = STALLED_AFTER_SECONDS,
    heartbeat: float = HEARTBEAT_SECONDS,
    polling_interval: float = 5.0,
    max_outage_wait: float = MAX_OUTAGE_WAIT_SECONDS,
) -> None:
    """Run jobs from the queue until ``stop`` is set (or, with ``wait=False``, none is left).

    A database outage is waited out, with growing pauses up to ``max_outage_wait``.
    """
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    pause = 1.0
    while not stop.is_set():
        started = time.monotonic()
        try:
            with _ONE_WORKER:
                asyncio.run(
                    _run_once(
                        runtime,
                        stop,
                        wait=wait,
                        concurrency=concurrency,
                        stalled_after=stalled_after,
                        heartbeat=heartbeat,
                        polling_interval=polling_interval,
                    )
                )
            if not wait or stop.is_set():
                return
            # Procrastinate stops a worker whose side task (listening, heartbeat) failed:
            # the database went away. Wait, as below.
            error = "WorkerStopped"
        except OUTAGE_ERRORS as exc:
            error = type(exc).__name__
        except Exception as exc:
            # Anything else is waited out too: a supervisor restarting us at once would
            # only repeat it, faster.
            log.exception("worker stopped on an unexpected error")
            error = type(exc).__name__
        if time.monotonic() - started > 60:
            pause = 1.0  # it ran for a while: a new outage starts the waits afresh
        logs.event(log, logging.WARNING, "worker.database_unreachable", error=error, retry_in=pause)
        stop.wait(pause)
        pause = min(pause * 2, max_outage_wait)


def start_in_thread(runtime: Runtime, **options: Any) -> tuple[threading.Thread, threading.Event]:
    """A worker in a daemon thread of this process (`tandem serve --with-worker`, tests)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(runtime,),
        kwargs={"stop": stop, **options},
        name="tandem-worker",
        daemon=True,
    )
    thread.start()
    return thread, stop
