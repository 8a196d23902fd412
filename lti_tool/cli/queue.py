"""`tandem worker` and `tandem jobs list|retry`: the job queue from the command line."""

from __future__ import annotations

import click

import jobs

from .base import app_transaction, build_app, fail, main


def _runtime(app: object) -> jobs.Runtime:
    return app.extensions["tandem.jobs"]  # type: ignore[attr-defined]


@main.command("worker")
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 32),
              help="Jobs run at once by this worker.")  # fmt: skip
@click.option("--once", is_flag=True, help="Run the jobs that are due, then exit.")
def worker(concurrency: int, once: bool) -> None:
    """Run jobs from the PostgreSQL queue (any number of workers, on any hosts).

    Waits out database outages; a job left running by a worker that died is queued
    again. On SQLite there is no queue: `tandem serve` runs jobs itself.
    """
    app = build_app()
    runtime = _runtime(app)
    if not runtime.on_postgresql:
        fail(
            "the job queue needs PostgreSQL (TANDEM_DATABASE_URL); on SQLite "
            "`tandem serve` runs jobs itself",
            2,
        )
    jobs.logs.configure(app.config.get("TANDEM_LOG_FORMAT") or "text")
    click.echo("tandem worker: running jobs (Ctrl-C stops after the running ones)", err=True)
    jobs.run_worker(runtime, wait=not once, concurrency=concurrency)


@main.group("jobs")
def jobs_group() -> None:
    """Show and retry jobs of the queue."""


@jobs_group.command("list")
@click.option("--failed", is_flag=True, help="Only jobs that failed and wait for `retry`.")
def jobs_list(failed: bool) -> None:
    """Waiting, running and failed jobs, newest first, with the reason of the last failure."""
    app = build_app()
    try:
        with app_transaction(app) as session:
            rows = jobs.list_jobs(session, failed_only=failed)
    except jobs.JobError as exc:
        fail(str(exc), 2)
    for row in rows:
        since = row.since.strftime("%Y-%m-%d %H:%M") if row.since else "-"
        reason = f"  {row.reason}" if row.reason else ""
        click.echo(f"{row.id}  {row.status:<7} {row.task}  attempts={row.attempts}  "
                   f"since {since}{reason}")  # fmt: skip
    click.echo(f"{len(rows)} job(s)")


@jobs_group.command("retry")
@click.argument("job_id", type=click.IntRange(min=1))
def jobs_retry(job_id: int) -> None:
    """Queue failed job JOB_ID again, now."""
    app = build_app()
    try:
        with app_transaction(app) as session:
            task = jobs.retry_job(session, job_id)
    except jobs.JobError as exc:
        fail(str(exc))
    click.echo(f"job {job_id} ({task}) queued again")


__all__ = ["jobs_group", "worker"]
