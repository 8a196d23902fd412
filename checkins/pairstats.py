"""Running figures for the dashboard: each pair's on its ``matches`` row, and per
programme the check-ins by day (``checkin_days``) and the answers by survey
(``survey_tallies``).

The dashboard, alerts and reminders read how often a pair met, when last, how long, the
lowest pulse satisfaction and how many answers each pair survey has from the pair's own
row (``Match.checkin_count`` and friends) instead of counting check-ins and answers on
every page view. The services that write those rows move the figures in the same
transaction: :func:`count_checkin` from ``log_checkin``, :func:`count_answer` from
``answer_survey``. Each is an ``UPDATE ... SET n = n + 1`` (or an upsert adding to the
programme's row) evaluated by the database on the row it locks, so two meetings logged
at once by the two sides of a pair both count.
Closing and re-matching a pair change only its status and end, which are on the row
already.

Rows written around the services (bulk imports, the demo, the benchmark's seeding, test
fixtures) are counted afresh by :func:`recount_pairs`, the same count migration 0008
backfilled with.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, delete, func, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from records import CheckIn, Match, Participant, SurveyResponse
from records.relationships import CheckinDay, SurveyTally

from .settings import PULSES

PAIR_SURVEYS = (*PULSES, "end")
ANSWER_COLUMNS = {survey: f"{survey}_answers" for survey in PAIR_SURVEYS}
TALLIES = ("answers", "satisfaction_sum", "satisfaction_count", "confidence_sum",
           "confidence_count", "change_sum", "change_count")  # fmt: skip
_BASELINE = aliased(SurveyResponse)


def _add(session: Session, model: type, key: dict[str, Any], amounts: dict[str, int]) -> None:
    """Insert the programme's row for ``key`` or add ``amounts`` to it, atomically."""
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert_(model).values(**key, **amounts)
    columns = model.__table__.c  # type: ignore[attr-defined]
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[name for name in key if name != "tenant_id"],
            set_={name: columns[name] + statement.excluded[name] for name in amounts},
        )
    )


def count_checkin_day(session: Session, tenant_id: int, programme_id: int, met_on: date) -> None:
    """Add one meeting on ``met_on`` to the programme's check-ins by day."""
    key = {"tenant_id": tenant_id, "programme_id": programme_id, "met_on": met_on}
    _add(session, CheckinDay, key, {"checkins": 1})


def _tally(
    session: Session, tenant_id: int, programme_id: int, survey: str, **amounts: int
) -> None:
    key = {"tenant_id": tenant_id, "programme_id": programme_id, "survey": survey}
    _add(session, SurveyTally, key, {name: amounts.get(name, 0) for name in TALLIES})


def count_survey_answer(session: Session, response: SurveyResponse, programme_id: int) -> None:
    """Add one answer (already flushed) to the programme's tally of its survey.

    The confidence change pairs the answer with the person's enrolment baseline; when
    the baseline is the one arriving, it pairs with the answers the person gave before.
    """
    tenant_id, confidence = response.tenant_id, response.confidence
    change = {}
    if confidence is not None and response.survey != "enrolment":
        baseline = session.scalar(
            select(SurveyResponse.confidence).where(
                SurveyResponse.tenant_id == tenant_id,
                SurveyResponse.participant_id == response.participant_id,
                SurveyResponse.survey == "enrolment",
                SurveyResponse.match_id.is_(None),
            )
        )
        if baseline is not None:
            change = {"change_sum": confidence - baseline, "change_count": 1}
    _tally(
        session, tenant_id, programme_id, response.survey, answers=1,
        satisfaction_sum=response.satisfaction or 0,
        satisfaction_count=int(response.satisfaction is not None),
        confidence_sum=confidence or 0, confidence_count=int(confidence is not None), **change,
    )  # fmt: skip
    if confidence is not None and response.survey == "enrolment":
        earlier = session.execute(
            select(SurveyResponse.survey, func.count(), func.sum(SurveyResponse.confidence))
            .where(
                SurveyResponse.tenant_id == tenant_id,
                SurveyResponse.participant_id == response.participant_id,
                SurveyResponse.survey != "enrolment",
                SurveyResponse.confidence.is_not(None),
            )
            .group_by(SurveyResponse.survey)
        ).all()
        for survey, n, total in earlier:
            _tally(session, tenant_id, programme_id, survey,
                   change_sum=int(total) - n * confidence, change_count=n)  # fmt: skip


def count_checkin(match: Match, met_on: date, duration_minutes: int) -> None:
    """Add one meeting to ``match``'s figures (flushed with the caller's next flush).

    The increments are SQL expressions on the attributes: flush before counting the same
    pair again, or the second assignment replaces the first.
    """
    match.checkin_count = Match.checkin_count + 1  # type: ignore[assignment]
    match.checkin_minutes = Match.checkin_minutes + duration_minutes  # type: ignore[assignment]
    match.last_checkin_on = case(  # type: ignore[assignment]
        (or_(Match.last_checkin_on.is_(None), Match.last_checkin_on < met_on), met_on),
        else_=Match.last_checkin_on,
    )


def count_answer(match: Match, survey: str, satisfaction: int | None) -> None:
    """Add one answer of pair survey ``survey`` to ``match``'s figures."""
    column = ANSWER_COLUMNS[survey]
    setattr(match, column, getattr(Match, column) + 1)
    if survey in PULSES and satisfaction is not None:
        match.min_satisfaction = case(  # type: ignore[assignment]
            (
                or_(Match.min_satisfaction.is_(None), Match.min_satisfaction > satisfaction),
                satisfaction,
            ),
            else_=Match.min_satisfaction,
        )


def recount_pairs(session: Session, tenant_id: int, programme_id: int) -> None:
    """Count every running figure of a programme afresh from its check-ins and answers:
    each pair's, the check-ins by day and the answers by survey.

    For rows written without the services: bulk loads, the demo, test fixtures. One
    statement; each pair reads its own rows through the ``(tenant_id, match_id, ...)``
    indexes.
    """

    def checkins(aggregate):  # type: ignore[no-untyped-def]
        return (
            select(aggregate)
            .where(CheckIn.tenant_id == tenant_id, CheckIn.match_id == Match.id)
            .scalar_subquery()
        )

    def answers(aggregate, condition):  # type: ignore[no-untyped-def]
        return (
            select(aggregate)
            .where(
                SurveyResponse.tenant_id == tenant_id,
                SurveyResponse.match_id == Match.id,
                condition,
            )
            .scalar_subquery()
        )

    values = {
        "checkin_count": checkins(func.count()),
        "checkin_minutes": checkins(func.coalesce(func.sum(CheckIn.duration_minutes), 0)),
        "last_checkin_on": checkins(func.max(CheckIn.met_on)),
        "min_satisfaction": answers(
            func.min(SurveyResponse.satisfaction), SurveyResponse.survey.in_(PULSES)
        ),
        **{
            column: answers(func.count(), SurveyResponse.survey == survey)
            for survey, column in ANSWER_COLUMNS.items()
        },
    }
    session.execute(
        update(Match)
        .where(Match.tenant_id == tenant_id, Match.programme_id == programme_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    matches = select(Match.id).where(
        Match.tenant_id == tenant_id, Match.programme_id == programme_id
    )
    session.execute(
        delete(CheckinDay).where(
            CheckinDay.tenant_id == tenant_id, CheckinDay.programme_id == programme_id
        )
    )
    session.execute(
        insert(CheckinDay).from_select(
            ["tenant_id", "programme_id", "met_on", "checkins"],
            select(literal(tenant_id), literal(programme_id), CheckIn.met_on, func.count())
            .where(CheckIn.tenant_id == tenant_id, CheckIn.match_id.in_(matches))
            .group_by(CheckIn.met_on),
        )
    )
    session.execute(
        delete(SurveyTally).where(
            SurveyTally.tenant_id == tenant_id, SurveyTally.programme_id == programme_id
        )
    )
    answer, baseline = SurveyResponse, _BASELINE
    change = case((answer.survey != "enrolment", answer.confidence - baseline.confidence))
    sums = [
        func.count(),
        func.coalesce(func.sum(answer.satisfaction), 0),
        func.count(answer.satisfaction),
        func.coalesce(func.sum(answer.confidence), 0),
        func.count(answer.confidence),
        func.coalesce(func.sum(change), 0),
        func.count(change),
    ]
    by_survey = (
        select(literal(tenant_id), literal(programme_id), answer.survey, *sums)
        .outerjoin(
            baseline,
            (baseline.tenant_id == tenant_id)
            & (baseline.participant_id == answer.participant_id)
            & (baseline.survey == "enrolment")
            & baseline.match_id.is_(None),
        )
        .where(
            answer.tenant_id == tenant_id,
            answer.participant_id.in_(
                select(Participant.id).where(
                    Participant.tenant_id == tenant_id, Participant.programme_id == programme_id
                )
            ),
        )
        .group_by(answer.survey)
    )
    session.execute(
        insert(SurveyTally).from_select(
            ["tenant_id", "programme_id", "survey", *TALLIES], by_survey
        )
    )
    # The session's copies of these rows hold the old figures.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Match) and obj.programme_id == programme_id:
            session.expire(obj, [*values])
