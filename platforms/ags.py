"""Assignment and Grade Services: line items and scores for a programme's members."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Identity, Programme, SecretBox, Tenant, utcnow

from . import claims as c
from .access_tokens import access_token
from .errors import ServiceError
from .http import call, call_json

LINEITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")
LINEITEM_TAG = "tandem-progress"


def scores_url(lineitem_url: str) -> str:
    """The line item's ``/scores`` endpoint, keeping any query string."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def lineitem_payload(programme_name: str, programme_id: int, score_maximum: float) -> dict:
    """The line item Tandem asks for: one per programme, tagged as Tandem's progress."""
    return {
        "scoreMaximum": score_maximum,
        "label": programme_name,
        "resourceId": f"programme-{programme_id}",
        "tag": LINEITEM_TAG,
    }


def _lti_user_id(session: Session, tenant_id: int, member_id: int) -> str:
    user_id = session.scalars(
        select(Identity.external_id)
        .where(
            Identity.tenant_id == tenant_id,
            Identity.member_id == member_id,
            Identity.source == "lti",
        )
        .order_by(Identity.last_seen_at.desc().nulls_last(), Identity.id.desc())
        .limit(1)
    ).first()
    if user_id is None:
        raise ServiceError(f"member {member_id} has never launched Tandem: no LTI user id")
    return user_id


def ensure_lineitem(
    session: Session, box: SecretBox, tenant: Tenant, programme: Programme, score_maximum: float
) -> str:
    """The programme's line item URL, creating the line item when the platform allows.

    Raises:
        ServiceError: the programme has no line item and no line items endpoint is known.
    """
    if programme.lineitem_url:
        return programme.lineitem_url
    lineitems_url = (programme.settings or {}).get("lti_lineitems_url")
    if not lineitems_url:
        raise ServiceError(
            f"programme {programme.id} has no line item: place it through deep linking in a "
            "course that offers grades, or launch it once from there"
        )
    token = access_token(session, box, tenant, [c.SCOPE_LINEITEM])
    created = call_json(
        "POST",
        lineitems_url,
        json=lineitem_payload(programme.name, programme.id, score_maximum),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": LINEITEM_MEDIA_TYPE,
            "Accept": LINEITEM_MEDIA_TYPE,
        },
    )
    url = created.get("id") if isinstance(created, dict) else None
    if not isinstance(url, str) or not url:
        raise ServiceError(f"{lineitems_url} created a line item without an id")
    programme.lineitem_url = url
    return url


def post_progress(
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
    box: SecretBox | None = None,
) -> dict[str, Any]:
    """Post a member's score or progress to the programme's AGS line item.

    Args:
        activity_progress: one of :data:`ACTIVITY_PROGRESS`.
        grading_progress: one of :data:`GRADING_PROGRESS`.
        box: the app's secret box; defaults to the current Flask app's.

    Returns:
        the score as posted.

    Raises:
        ValueError: a score or progress value is out of range.
        ServiceError: the programme is unknown or has no line item, the member never
            launched, or the platform refused.
    """
    if max_score <= 0 or not 0 <= score <= max_score:
        raise ValueError(f"score {score} is outside 0..{max_score} (max_score must be positive)")
    if activity_progress not in ACTIVITY_PROGRESS:
        raise ValueError(
            f"activity_progress {activity_progress!r}; need one of {ACTIVITY_PROGRESS}"
        )
    if grading_progress not in GRADING_PROGRESS:
        raise ValueError(f"grading_progress {grading_progress!r}; need one of {GRADING_PROGRESS}")
    if box is None:
        from flask import current_app

        box = current_app.extensions["tandem.secrets"]
    tenant = session.get(Tenant, tenant_id)
    programme = session.get(Programme, programme_id)
    if tenant is None or programme is None or programme.tenant_id != tenant_id:
        raise ServiceError(f"programme {programme_id} is not one of tenant {tenant_id}'s")
    lineitem_url = ensure_lineitem(session, box, tenant, programme, max_score)
    payload = {
        "userId": _lti_user_id(session, tenant_id, member_id),
        "scoreGiven": score,
        "scoreMaximum": max_score,
        "activityProgress": activity_progress,
        "gradingProgress": grading_progress,
        "timestamp": utcnow().isoformat(timespec="milliseconds"),
    }
    if comment:
        payload["comment"] = comment
    token = access_token(session, box, tenant, [c.SCOPE_SCORE])
    call(
        "POST",
        scores_url(lineitem_url),
        json=payload,
        headers={"Authorization": f"Bearer {token}", "Content-Type": SCORE_MEDIA_TYPE},
    )
    return payload
