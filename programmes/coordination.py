"""The coordinator's running-programme pages: dashboard, evaluation export, re-match, alerts.

The work is :mod:`checkins`'; this module puts the one access rule
(:func:`~programmes.access.coordinated_programme`, the course-scoped rule set-up and
match day use) in front of it, and hands ``checkins`` the programme it admitted so that
every child object (match, alert) is checked against that programme. ``checkins`` may
not import ``programmes`` (the arrow points the other way), so the rule is applied here.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

import translations
from checkins import rematch_pair as _rematch_pair
from checkins import resolve_alert as _resolve_alert
from checkins.dashboard import Dashboard
from checkins.dashboard import programme_dashboard as _programme_dashboard
from checkins.export import evaluation_csv as _evaluation_csv
from records import Alert, Match

from .access import Actor, coordinated_programme


def programme_dashboard(
    session: Session,
    actor: Actor,
    programme_id: int,
    today: date | None = None,
    t: translations.Translator | None = None,
) -> Dashboard:
    """The dashboard of a programme the actor coordinates (charts worded through ``t``).

    Raises:
        PermissionDeniedError: the actor is not a coordinator.
        NotFoundError: not a programme the actor may see.
    """
    programme = coordinated_programme(session, actor, programme_id)
    return _programme_dashboard(session, actor.tenant_id, programme.id, today, t)


def evaluation_csv(
    session: Session, actor: Actor, programme_id: int, *, anonymise: bool = True
) -> str:
    """The evaluation export of a programme the actor coordinates (see
    :func:`checkins.export.evaluation_csv`).

    Raises:
        PermissionDeniedError, NotFoundError: as :func:`programme_dashboard`.
    """
    programme = coordinated_programme(session, actor, programme_id)
    return _evaluation_csv(session, actor.tenant_id, programme.id, anonymise=anonymise)


def rematch_pair(
    session: Session, actor: Actor, programme_id: int, match_id: int, *, reason: str
) -> Match:
    """End a pair of a programme the actor coordinates as re-matched.

    Raises:
        PermissionDeniedError, NotFoundError: as :func:`programme_dashboard`.
        checkins.NotInProgramme: the match is another programme's.
        checkins.InvalidInput, checkins.Conflict: see :func:`checkins.rematch_pair`.
    """
    programme = coordinated_programme(session, actor, programme_id)
    return _rematch_pair(
        session, actor.tenant_id, match_id, actor.member_id,
        programme_id=programme.id, reason=reason,
    )  # fmt: skip


def resolve_alert(session: Session, actor: Actor, programme_id: int, alert_id: int) -> Alert:
    """Mark an alert of a programme the actor coordinates dealt with.

    Raises:
        PermissionDeniedError, NotFoundError: as :func:`programme_dashboard`.
        checkins.NotInProgramme: the alert is another programme's.
        checkins.Conflict: resolved already.
    """
    programme = coordinated_programme(session, actor, programme_id)
    return _resolve_alert(
        session, actor.tenant_id, alert_id, actor.member_id,
        programme_id=programme.id,
    )  # fmt: skip
