"""The coordinator's programme dashboard, from a fixed number of aggregate queries.

Whatever the programme's size, the figures come from: participants by role, one grouped
row per pair (:func:`~tandem.checkins.health.pair_states`), survey answers by survey,
paired confidence change by survey, and check-ins by day; the same again for the previous
cohort; plus the names of flagged pairs and the open alerts. Private notes are never read.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from tandem.records import (
    Alert,
    CheckIn,
    Match,
    Member,
    Participant,
    Programme,
    SurveyResponse,
    utcnow,
)

from .charts import Series, bar_chart, line_chart
from .closing import end_outcome
from .health import PairState, pair_states
from .pairs import get_programme
from .settings import PULSES, month_of_programme, pulse_opens_on, settings_of
from .surveys import SURVEY_TITLES

STAGES = ("enrolment", *PULSES, "end")
DAYS_PER_MONTH = 30.44
WATCH_LIMIT = 50


@dataclass
class CohortFigures:
    """One cohort's figures (``None`` where there is nothing to count yet)."""

    programme_id: int
    name: str
    n_mentees: int = 0
    n_matched: int = 0
    match_rate: float | None = None
    days_to_match: float | None = None
    n_pairs: int = 0
    n_running: int = 0
    n_active: int = 0
    active_share: float | None = None
    meetings_per_pair_month: float | None = None
    response_rate: float | None = None
    satisfaction: float | None = None
    confidence_change: float | None = None
    confidence_change_stage: str | None = None
    n_closed: int = 0
    n_early: int = 0
    early_end_rate: float | None = None
    checkins_by_month: list[int] = field(default_factory=list)
    confidence_by_stage: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PairRow:
    """A pair on the coordinator's watch list (names, never notes)."""

    match_id: int
    mentor: str
    mentee: str
    last_met_on: date | None
    reasons: list[str]


@dataclass
class Dashboard:
    programme: Programme
    current: CohortFigures
    previous: CohortFigures | None
    quiet: list[PairRow]
    at_risk: list[PairRow]
    alerts: list[dict]
    checkins_chart: str
    confidence_chart: str
    n_quiet: int = 0
    n_at_risk: int = 0


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def cohort_figures(
    session: Session, tenant_id: int, programme: Programme, today: date
) -> tuple[CohortFigures, list[PairState]]:
    """The figures of one programme, and its pairs' states (for the watch lists)."""
    figures = CohortFigures(programme.id, programme.name)
    roles = dict(
        session.execute(
            select(Participant.role, func.count(Participant.id))
            .where(
                Participant.tenant_id == tenant_id,
                Participant.programme_id == programme.id,
                Participant.status != "withdrawn",
            )
            .group_by(Participant.role)
        ).all()
    )
    figures.n_mentees = roles.get("mentee", 0) + roles.get("peer", 0)
    states = pair_states(session, tenant_id, programme, today)
    settings = settings_of(programme)

    matched = {s.mentee_member_id for s in states if s.status != "rematched"}
    figures.n_matched = len(matched)
    figures.match_rate = _ratio(len(matched), figures.n_mentees)
    waits = [
        (s.accepted_at - s.mentee_enrolled_at).total_seconds() / 86400
        for s in states
        if s.accepted_at and s.status != "rematched"
    ]
    figures.days_to_match = round(statistics.median(waits), 1) if waits else None

    figures.n_pairs = len(states)
    running = [s for s in states if s.running]
    figures.n_running = len(running)
    figures.n_active = sum(s.active for s in running)
    figures.active_share = _ratio(figures.n_active, len(running))
    pair_months = 0.0
    expected = answered = 0
    for s in states:
        if s.start is None:
            continue
        end = s.ended_at.date() if s.ended_at else today
        pair_months += max((end - s.start).days, 1) / DAYS_PER_MONTH
        for survey in settings.pulse_surveys:
            opens = pulse_opens_on(programme, s, survey)  # type: ignore[arg-type]
            if opens is not None and opens <= min(end, today):
                expected += 2
                answered += min(s.responses.get(survey, 0), 2)
        if s.status == "closed":
            expected += 2
            answered += min(s.responses.get("end", 0), 2)
    figures.meetings_per_pair_month = (
        round(sum(s.n_checkins for s in states) / pair_months, 2) if pair_months else None
    )
    figures.response_rate = _ratio(answered, expected)
    closed = [s for s in states if s.status == "closed"]
    figures.n_closed = len(closed)
    figures.n_early = sum(end_outcome(end_reason=s.end_reason) == "early" for s in closed)
    figures.early_end_rate = _ratio(figures.n_early, len(closed))

    in_programme = (
        select(Participant.id)
        .where(Participant.tenant_id == tenant_id, Participant.programme_id == programme.id)
        .scalar_subquery()
    )
    by_survey = session.execute(
        select(
            SurveyResponse.survey,
            func.avg(SurveyResponse.satisfaction),
            func.avg(SurveyResponse.confidence),
            func.count(SurveyResponse.satisfaction),
        )
        .where(
            SurveyResponse.tenant_id == tenant_id, SurveyResponse.participant_id.in_(in_programme)
        )
        .group_by(SurveyResponse.survey)
    ).all()
    n_sat = sum(n for survey, _, _, n in by_survey if survey in PULSES)
    figures.satisfaction = (
        round(
            sum(
                float(sat) * n
                for survey, sat, _, n in by_survey
                if survey in PULSES and sat is not None
            )
            / n_sat,
            2,
        )
        if n_sat
        else None
    )
    figures.confidence_by_stage = {
        survey: round(float(conf), 2) for survey, _, conf, _ in by_survey if conf is not None
    }

    base, later = aliased(SurveyResponse), aliased(SurveyResponse)
    changes = dict(
        (survey, float(change))
        for survey, change in session.execute(
            select(later.survey, func.avg(later.confidence - base.confidence))
            .select_from(base)
            .join(
                later,
                (later.participant_id == base.participant_id) & (later.tenant_id == base.tenant_id),
            )
            .where(
                base.tenant_id == tenant_id,
                base.survey == "enrolment",
                base.participant_id.in_(in_programme),
                later.survey != "enrolment",
                later.confidence.is_not(None),
                base.confidence.is_not(None),
            )
            .group_by(later.survey)
        ).all()
        if change is not None
    )
    # The latest stage answered so far: the end evaluation, else close, midpoint, day 30.
    for stage in ("end", "close", "midpoint", "day30"):
        if stage in changes:
            figures.confidence_change = round(changes[stage], 2)
            figures.confidence_change_stage = stage
            break

    by_day = session.execute(
        select(CheckIn.met_on, func.count(CheckIn.id))
        .join(Match, Match.id == CheckIn.match_id)
        .where(CheckIn.tenant_id == tenant_id, Match.programme_id == programme.id)
        .group_by(CheckIn.met_on)
    ).all()
    months: dict[int, int] = {}
    for day, count in by_day:
        index = month_of_programme(programme, day)
        months[index] = months.get(index, 0) + count
    n_months = max(months, default=-1) + 1
    figures.checkins_by_month = [months.get(i, 0) for i in range(n_months)]
    return figures, states


def programme_dashboard(
    session: Session, tenant_id: int, programme_id: int, today: date | None = None
) -> Dashboard:
    """Everything the coordinator's dashboard shows, this cohort beside the previous one.

    Raises:
        NotFound: the programme is not this tenant's.
    """
    today = today or utcnow().date()
    programme = get_programme(session, tenant_id, programme_id)
    current, states = cohort_figures(session, tenant_id, programme, today)
    previous = None
    if programme.copied_from_id is not None:
        before = session.scalars(
            select(Programme).where(
                Programme.id == programme.copied_from_id, Programme.tenant_id == tenant_id
            )
        ).first()
        if before is not None:
            previous, _ = cohort_figures(session, tenant_id, before, today)

    # The longest-quiet pairs first; the page lists WATCH_LIMIT of each and counts the rest.
    quiet_states = sorted(
        (s for s in states if s.running and s.quiet), key=lambda s: s.last_met_on or date.min
    )
    risky_states = [s for s in states if s.running and s.at_risk]
    n_quiet, n_at_risk = len(quiet_states), len(risky_states)
    watched = quiet_states[:WATCH_LIMIT] + risky_states[:WATCH_LIMIT]
    alerts = session.scalars(
        select(Alert)
        .where(
            Alert.tenant_id == tenant_id, Alert.programme_id == programme.id, Alert.status == "open"
        )
        .order_by(Alert.raised_at.desc(), Alert.id.desc())
        .limit(200)
    ).all()
    flagged_matches = {a.match_id for a in alerts if a.match_id}
    mentor_p, mentee_p = aliased(Participant), aliased(Participant)
    mentor_m, mentee_m = aliased(Member), aliased(Member)
    pair_names: dict[int, tuple[str, str]] = {}
    wanted_matches = flagged_matches | {s.match_id for s in watched}
    if wanted_matches:
        for match_id, mentor, mentee in session.execute(
            select(Match.id, mentor_m, mentee_m)
            .join(mentor_p, mentor_p.id == Match.mentor_participant_id)
            .join(mentee_p, mentee_p.id == Match.mentee_participant_id)
            .join(mentor_m, mentor_m.id == mentor_p.member_id)
            .join(mentee_m, mentee_m.id == mentee_p.member_id)
            .where(Match.tenant_id == tenant_id, Match.id.in_(wanted_matches))
        ).all():
            pair_names[match_id] = (mentor.name, mentee.name)

    def row(s: PairState, reasons: list[str]) -> PairRow:
        mentor, mentee = pair_names.get(s.match_id, ("?", "?"))
        return PairRow(s.match_id, mentor, mentee, s.last_met_on, reasons)

    quiet = [
        row(s, [f"no check-in since {(s.last_met_on or s.start or today):%d %b}"])
        for s in quiet_states[:WATCH_LIMIT]
    ]
    at_risk = [row(s, s.risks) for s in risky_states[:WATCH_LIMIT]]
    alert_rows = [
        {
            "id": a.id,
            "kind": a.kind,
            "match_id": a.match_id,
            "raised_at": a.raised_at,
            "pair": " & ".join(pair_names.get(a.match_id, ("?", "?"))) if a.match_id else "",
            "reason": a.detail.get("reason") or a.detail.get("survey") or "",
        }
        for a in alerts
    ]

    n_months = max(
        len(current.checkins_by_month), len(previous.checkins_by_month) if previous else 0, 1
    )
    labels = [f"M{i + 1}" for i in range(n_months)]

    def padded(values: list[int]) -> list[float | None]:
        return [float(v) for v in values] + [None] * (n_months - len(values))

    series = [Series(current.name, padded(current.checkins_by_month))]
    if previous:
        series.append(Series(previous.name, padded(previous.checkins_by_month)))
    checkins_chart = line_chart("Check-ins per programme month", labels, series)
    stages = [
        s
        for s in STAGES
        if s in current.confidence_by_stage or (previous and s in previous.confidence_by_stage)
    ]
    confidence_series = [Series(current.name, [current.confidence_by_stage.get(s) for s in stages])]
    if previous:
        confidence_series.append(
            Series(previous.name, [previous.confidence_by_stage.get(s) for s in stages])
        )
    confidence_chart = bar_chart(
        "Mean confidence (1-5) by survey",
        [SURVEY_TITLES[s] for s in stages],
        confidence_series,
        top=5.0,
    )
    return Dashboard(
        programme, current, previous, quiet, at_risk, alert_rows, checkins_chart,
        confidence_chart, n_quiet, n_at_risk,
    )  # fmt: skip
