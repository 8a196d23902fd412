"""What operators see of the PostgreSQL queue: `tandem jobs list`, `retry`, and locks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from .errors import JobError


@dataclass(frozen=True)
class JobRow:
    """One job as `tandem jobs list` shows it."""

    id: int
    task: str
    status: str
    attempts: int
    since: datetime | None
    reason: str | None


def _require_queue(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        raise JobError(
            "the job queue lives in PostgreSQL; on SQLite jobs run inside the serving "
            "process and a job that gave up leaves a job.attempt_failed audit row"
        )


def list_jobs(session: Session, *, failed_only: bool = False, limit: int = 200) -> list[JobRow]:
    """Waiting, running and failed jobs (finished ones are deleted), newest first."""
    _require_queue(session)
    statuses = ["failed"] if failed_only else ["todo", "doing", "failed"]
    rows = session.execute(
        text(
            "SELECT j.id, j.task_name, j.status::text, j.attempts, "
            "  (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) "
            "FROM procrastinate_jobs j WHERE j.status::text = ANY(:statuses) "
            "ORDER BY j.id DESC LIMIT :limit"
        ),
        {"statuses": statuses, "limit": limit},
    ).all()
    reasons = _reasons(session, [row[0] for row in rows])
    return [
        JobRow(
            id=row[0],
            task=row[1],
            status=row[2],
            attempts=row[3],
            since=row[4],
            reason=reasons.get(row[0]),
        )
        for row in rows
    ]


def _reasons(session: Session, job_ids: list[int]) -> dict[int, str]:
    """The last failure reason kept for each job (jobs.engine keeps them as audit rows)."""
    if not job_ids:
        return {}
    rows = session.execute(
        text(
            "SELECT subject_id, detail FROM audit_events "
            "WHERE subject_type = 'job' "
            "AND subject_id = ANY(:ids) ORDER BY id"
        ),
        {"ids": [str(i) for i in job_ids]},
    ).all()
    return {int(subject_id): (detail or {}).get("reason", "") for subject_id, detail in rows}


def retry_job(session: Session, job_id: int) -> str:
    """Queue a failed job again, now; returns its task name.

    Raises:
        JobError: no such job, or it is not failed.
    """
    _require_queue(session)
    row = session.execute(
        text("SELECT task_name, status::text FROM procrastinate_jobs WHERE id = :id FOR UPDATE"),
        {"id": job_id},
    ).first()
    if row is None:
        raise JobError(f"there is no job {job_id} (finished jobs are not kept)")
    if row[1] != "failed":
        raise JobError(f"job {job_id} is {row[1]}, not failed; only failed jobs are retried")
    session.execute(
        text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)"), {"id": job_id}
    )
    return str(row[0])


def busy_since(session: Session, lock: str) -> tuple[str, datetime] | None:
    """``("running"|"queued", since)`` for a waiting or running job holding ``lock``."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    row = session.execute(
        text(
            "SELECT j.status::text, "
            "  (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id "
            "   AND e.type::text IN ('deferred', 'started')) "
            "FROM procrastinate_jobs j "
            "WHERE (j.lock = :lock OR j.queueing_lock = :lock) "
            "AND j.status::text IN ('todo', 'doing') ORDER BY j.status DESC LIMIT 1"
        ),
        {"lock": lock},
    ).first()
    if row is None:
        return None
    return ("running" if row[0] == "doing" else "queued", row[1])


def queue_counts(session: Session) -> dict[tuple[str, str], int]:
    """How many jobs of each task wait, run or failed (empty on SQLite: no queue)."""
    if session.get_bind().dialect.name != "postgresql":
        return {}
    rows = session.execute(
        text(
            "SELECT task_name, status::text, count(*) FROM procrastinate_jobs "
            "WHERE status::text IN ('todo', 'doing', 'failed') GROUP BY 1, 2"
        )
    ).all()
    return {(task, status): count for task, status, count in rows}


__all__ = ["JobRow", "busy_since", "list_jobs", "queue_counts", "retry_job"]
