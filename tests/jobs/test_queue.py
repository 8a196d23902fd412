"""The job queue: real Procrastinate workers on PostgreSQL, the in-process runner on SQLite.

Faults each have a test: a failing job keeps its reason, is retried with backoff up to a
limit and then waits for `tandem jobs retry`; a worker killed mid-job loses nothing; the
database going away makes a worker wait and resume.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

import jobs
import records
from records import AuditEvent, Database
from tests.support import databases
from tests.support.job_tasks import BLOCKING, FLAKY, done_keys
from tests.support.jobs import run_jobs
from tests.support.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]

postgres_only = pytest.mark.parametrize(
    "backend", [b for b in databases.backends() if b == "postgresql"], indirect=False
)


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def defer(app: Flask, name: str, **kwargs: object) -> None:
    with app.app_context(), records.get_database(app).transaction() as session:
        jobs.defer(session, name, **kwargs)


def done(app: Flask) -> list[str]:
    with app.app_context(), records.get_database(app).transaction() as session:
        return done_keys(session)


def audit_count(app: Flask, action: str) -> int:
    with app.app_context(), records.get_database(app).transaction() as session:
        return session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )


def failed_jobs(app: Flask) -> list[jobs.JobRow]:
    with app.app_context(), records.get_database(app).transaction() as session:
        return jobs.list_jobs(session, failed_only=True)


@pytest.fixture
def flags(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def test_a_rolled_back_transaction_leaves_no_job_and_a_committed_one_runs(
    app: Flask, flags: Path, backend: str
) -> None:
    fail_flag = str(flags / "never")
    database = records.get_database(app)
    with app.app_context(), database.sessionmaker() as session:
        jobs.defer(session, FLAKY, key="rolled-back", fail_flag=fail_flag)
        session.rollback()
        jobs.defer(session, FLAKY, key="committed", fail_flag=fail_flag)
        session.commit()
        if backend == "postgresql":
            queued = jobs.list_jobs(session)
            assert [(j.task, j.status) for j in queued] == [(FLAKY, "todo")]
    run_jobs(app)
    assert done(app) == ["committed"]


def test_a_job_takes_ids_not_objects(app: Flask) -> None:
    with app.app_context(), records.get_database(app).transaction() as session:
        with pytest.raises(TypeError):
            jobs.defer(session, FLAKY, key=object(), fail_flag="x")
        with pytest.raises(jobs.JobError, match="no job named"):
            jobs.defer(session, "no.such.job")


@postgres_only
def test_a_failing_job_keeps_its_reason_backs_off_then_waits_for_retry(
    app: Flask, flags: Path, cli, backend: str
) -> None:
    fail_flag = flags / "down"
    fail_flag.write_text("down")
    defer(app, FLAKY, key="flaky", fail_flag=str(fail_flag))
    runtime = app.extensions["tandem.jobs"]
    thread, stop = jobs.start_in_thread(runtime, concurrency=1, polling_interval=0.1)
    try:
        wait_for(lambda: failed_jobs(app), 30, "the job to fail for good")
    finally:
        stop.set()
        thread.join(15)
    [job] = failed_jobs(app)
    assert job.attempts == 4  # the first and FAST_RETRY's three retries
    assert job.reason == "RuntimeError: the remote system is down (attempt 4)"
    with app.app_context(), records.get_database(app).transaction() as session:
        starts = session.scalars(
            text(
                "SELECT at FROM procrastinate_events WHERE job_id = :id AND type = 'started' "
                "ORDER BY at"
            ),
            {"id": job.id},
        ).all()
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert len(gaps) == 3 and gaps[0] >= 0.9 and gaps[0] < gaps[1] < gaps[2]  # backing off
    assert audit_count(app, "tests.half_done") == 0  # each failed attempt rolled back

    listed = cli(["jobs", "list", "--failed"])
    assert listed.exit_code == 0
    assert f"{job.id}  failed  {FLAKY}  attempts=4" in listed.output
    assert "RuntimeError: the remote system is down (attempt 4)" in listed.output

    fail_flag.unlink()  # the remote system is back
    retried = cli(["jobs", "retry", str(job.id)])
    assert retried.exit_code == 0 and f"job {job.id} ({FLAKY}) queued again" in retried.output
    run_jobs(app)
    assert done(app) == ["flaky"]
    assert audit_count(app, "tests.half_done") == 1
    gone = cli(["jobs", "retry", str(job.id)])  # finished jobs are not kept
    assert gone.exit_code == 1
    assert gone.output.strip() == (f"tandem: there is no job {job.id} (finished jobs are not kept)")


@postgres_only
def test_only_failed_jobs_are_retried(app: Flask, flags: Path, cli, backend: str) -> None:
    defer(app, FLAKY, key="waiting", fail_flag=str(flags / "x"))
    with app.app_context(), records.get_database(app).transaction() as session:
        [job] = jobs.list_jobs(session)
    result = cli(["jobs", "retry", str(job.id)])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"tandem: job {job.id} is todo, not failed; only failed jobs are retried"
    )
    assert cli(["jobs", "retry", "zero"]).exit_code == 2


def test_sqlite_runs_jobs_in_a_thread_with_the_same_retries(
    app: Flask, flags: Path, backend: str
) -> None:
    if backend != "sqlite":
        return  # the PostgreSQL queue's retries are the test above
    runtime = jobs.Runtime(
        database=records.get_database(app),
        box=app.extensions["tandem.secrets"],
        settings=app.config,
        local_mode="thread",
    )
    jobs.attach(runtime)
    hold, started = flags / "hold", flags / "started"
    hold.write_text("hold")
    began = time.perf_counter()
    defer(app, BLOCKING, key="slow", hold_flag=str(hold), started_flag=str(started))
    committed_in = time.perf_counter() - began
    wait_for(started.exists, 10, "the job to start")
    assert committed_in < 0.5  # the commit did not wait for the job
    assert done(app) == []
    hold.unlink()

    fail_flag = flags / "down"
    fail_flag.write_text("down")
    defer(app, FLAKY, key="flaky", fail_flag=str(fail_flag))
    assert jobs.drain(runtime, timeout=20)
    assert done(app) == ["slow"]
    with app.app_context(), records.get_database(app).transaction() as session:
        reasons = session.scalars(
            select(AuditEvent.detail["reason"].as_string())
            .where(AuditEvent.action == "job.attempt_failed")
            .order_by(AuditEvent.id)
        ).all()
    assert reasons == [
        f"RuntimeError: the remote system is down (attempt {n})" for n in (1, 2, 3, 4)
    ]


def _worker_env(app: Flask) -> dict[str, str]:
    return {
        **os.environ,
        "TANDEM_DATABASE_URL": app.config["TANDEM_DATABASE_URL"],
        "TANDEM_SECRET_KEY": app.config["SECRET_KEY"],
        "TANDEM_ENCRYPTION_KEY": app.config["TANDEM_ENCRYPTION_KEY"],
        "TANDEM_INSTANCE_PATH": app.instance_path,
    }


@postgres_only
def test_a_worker_killed_mid_job_loses_nothing(app: Flask, flags: Path, backend: str) -> None:
    hold, started = flags / "hold", flags / "started"
    hold.write_text("hold")
    defer(app, BLOCKING, key="survivor", hold_flag=str(hold), started_flag=str(started))
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.support.job_worker"],
        cwd=ROOT,
        env=_worker_env(app),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(started.exists, 30, "the worker to start the job")
    finally:
        worker.kill()  # SIGKILL: no chance to clean up
        worker.wait(10)
    with app.app_context(), records.get_database(app).transaction() as session:
        assert [j.status for j in jobs.list_jobs(session) if j.task == BLOCKING] == ["doing"]
    hold.unlink()
    started.unlink()
    time.sleep(1.5)  # the dead worker's last heartbeat grows old
    jobs.run_worker(
        app.extensions["tandem.jobs"], wait=False, stalled_after=1.0, polling_interval=0.1
    )
    assert started.read_text() == "2"  # picked up again: a second attempt
    assert done(app) == ["survivor"]
    with app.app_context(), records.get_database(app).transaction() as session:
        assert [j for j in jobs.list_jobs(session) if j.task == BLOCKING] == []


@postgres_only
def test_a_worker_waits_for_the_database_and_resumes(app: Flask, flags: Path, backend: str) -> None:
    url = make_url(app.config["TANDEM_DATABASE_URL"])
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    through_proxy = Database(url.set(host="127.0.0.1", port=proxy.port))
    runtime = jobs.Runtime(
        database=through_proxy, box=app.extensions["tandem.secrets"], settings=app.config
    )
    never = str(flags / "never")
    thread, stop = jobs.start_in_thread(
        runtime, concurrency=1, polling_interval=0.1, heartbeat=0.5, max_outage_wait=2
    )
    try:
        defer(app, FLAKY, key="before", fail_flag=never)
        wait_for(lambda: done(app) == ["before"], 30, "the first job")
        proxy.cut()
        # Jobs fail or wait while it is away (each failure keeps its reason); the worker
        # itself stays: Procrastinate's pool reconnects, and should the worker stop, it
        # is started again after a pause (worker.database_unreachable in the log).
        time.sleep(4)
        assert thread.is_alive()  # waiting, not exited
        defer(app, FLAKY, key="during", fail_flag=never)  # straight to the database
        proxy.restore()
        wait_for(lambda: sorted(done(app)) == ["before", "during"], 30, "the worker to resume")
    finally:
        stop.set()
        thread.join(20)
        proxy.cut()
        through_proxy.dispose()
    assert not thread.is_alive()


def test_worker_and_jobs_commands_refuse_sqlite_plainly(cli, backend: str) -> None:
    if backend != "sqlite":
        return
    for args in (["worker", "--once"], ["jobs", "list"], ["jobs", "retry", "1"]):
        result = cli(args)
        assert result.exit_code in (1, 2), args
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("tandem: "), result.output
        assert "PostgreSQL" in lines[0]
