"""AGS score posts as jobs: a member's step never waits on, or fails with, the LMS.

:func:`defer_progress` is a :class:`checkins.ProgressPoster` that queues the post in the
caller's transaction (a rolled-back step posts nothing); the job posts through
:func:`platforms.post_progress` and is retried with backoff while the LMS is down, then
stays failed for ``tandem jobs retry``. Posting a score again is harmless: AGS keeps the
newest.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

import jobs

from .ags import post_progress

POST_SCORE = "platforms.post_score"


def defer_progress(
    session: Session,
    tenant_id: int,
    programme_id: int,
    member_id: int,
    score: float,
    max_score: float,
    activity_progress: str = "InProgress",
    grading_progress: str = "FullyGraded",
    *,
    comment: str | None = None,
) -> bool:
    """Queue a post of the member's progress to the programme's line item."""
    return jobs.defer(
        session,
        POST_SCORE,
        tenant_id=tenant_id,
        programme_id=programme_id,
        member_id=member_id,
        score=float(score),
        max_score=float(max_score),
        activity_progress=activity_progress,
        grading_progress=grading_progress,
        comment=comment,
    )


@jobs.task(POST_SCORE, failure_action="lti.score_post_failed")
def post_score_job(
    ctx: jobs.JobContext,
    *,
    tenant_id: int,
    programme_id: int,
    member_id: int,
    score: float,
    max_score: float,
    activity_progress: str,
    grading_progress: str,
    comment: str | None,
) -> None:
    """Post the score (an error, the LMS down say, fails the attempt: it is retried)."""
    post_progress(
        ctx.session,
        tenant_id,
        programme_id,
        member_id,
        score,
        max_score,
        activity_progress,
        grading_progress,
        comment=comment,
        box=ctx.box,
    )
