"""How each pair of a programme is doing, from a fixed number of aggregate queries.

One grouped query per table (matches, check-ins, survey responses), however many pairs
the programme has: the dashboard, the alerts and the reminders all read this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from tandem.records import CheckIn, Match, Participant, Programme, SurveyResponse

from .settings import PULSES, CheckinSettings, pulse_opens_on, settings_of

RUNNING = ("accepted", "active")
# Pairs the figures count: everything that got past match day.
COUNTED = ("accepted", "active", "closed", "rematched")


@dataclass
class PairState:
    """One pair's figures and what the rules make of them."""

    match_id: int
    status: str
    mentor_member_id: int
    mentee_member_id: int
    mentee_enrolled_at: datetime
    accepted_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    n_checkins: int
    minutes: int
    last_met_on: date | None
    min_satisfaction: int | None
    responses: dict[str, int]
    due_on: date | None = None
    quiet: bool = False
    active: bool = False
    risks: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)

    @property
    def start(self) -> date | None:
        moment = self.accepted_at or self.started_at
        return moment.date() if moment else None


def pair_states(
    session: Session, tenant_id: int, programme: Programme, today: date
) -> list[PairState]:
    """Every counted pair of ``programme`` with the quiet / active / at-risk verdicts."""
    checkins = (
        select(
            CheckIn.match_id.label("match_id"),
            func.count(CheckIn.id).label("n"),
            func.sum(CheckIn.duration_minutes).label("minutes"),
            func.max(CheckIn.met_on).label("last_met_on"),
        )
        .join(Match, Match.id == CheckIn.match_id)
        .where(CheckIn.tenant_id == tenant_id, Match.programme_id == programme.id)
        .group_by(CheckIn.match_id)
        .subquery()
    )
    per_survey = [
        func.sum(case((SurveyResponse.survey == name, 1), else_=0)).label(name)
        for name in (*PULSES, "end")
    ]
    surveys = (
        select(
            SurveyResponse.match_id.label("match_id"),
            func.min(case((SurveyResponse.survey.in_(PULSES), SurveyResponse.satisfaction))).label(
                "min_satisfaction"
            ),
            *per_survey,
        )
        .join(Match, Match.id == SurveyResponse.match_id)
        .where(SurveyResponse.tenant_id == tenant_id, Match.programme_id == programme.id)
        .group_by(SurveyResponse.match_id)
        .subquery()
    )
    mentor = aliased(Participant)
    mentee = aliased(Participant)
    rows = session.execute(
        select(
            Match.id,
            Match.status,
            mentor.member_id,
            mentee.member_id,
            mentee.enrolled_at,
            Match.accepted_at,
            Match.started_at,
            Match.ended_at,
            Match.end_reason,
            checkins.c.n,
            checkins.c.minutes,
            checkins.c.last_met_on,
            surveys.c.min_satisfaction,
            *(surveys.c[name] for name in (*PULSES, "end")),
        )
        .join(mentor, mentor.id == Match.mentor_participant_id)
        .join(mentee, mentee.id == Match.mentee_participant_id)
        .outerjoin(checkins, checkins.c.match_id == Match.id)
        .outerjoin(surveys, surveys.c.match_id == Match.id)
        .where(
            Match.tenant_id == tenant_id,
            Match.programme_id == programme.id,
            Match.status.in_(COUNTED),
        )
        .order_by(Match.id)
    ).all()
    settings = settings_of(programme)
    states = []
    for row in rows:
        state = PairState(
            match_id=row[0],
            status=row[1],
            mentor_member_id=row[2],
            mentee_member_id=row[3],
            mentee_enrolled_at=row[4],
            accepted_at=row[5],
            started_at=row[6],
            ended_at=row[7],
            end_reason=row[8],
            n_checkins=row[9] or 0,
            minutes=int(row[10] or 0),
            last_met_on=row[11],
            min_satisfaction=row[12],
            responses={name: int(row[13 + i] or 0) for i, name in enumerate((*PULSES, "end"))},
        )
        judge(state, programme, settings, today)
        states.append(state)
    return states


def judge(state: PairState, programme: Programme, settings: CheckinSettings, today: date) -> None:
    """Apply the rules: due, quiet, active and at risk (only running pairs are judged)."""
    if not state.running:
        return
    reference = state.last_met_on or state.start
    if reference is None:
        return
    state.due_on = reference + timedelta(days=settings.cadence_days)
    state.quiet = today > state.due_on + timedelta(days=settings.grace_days)
    state.active = state.last_met_on is not None and state.last_met_on >= today - timedelta(
        days=settings.cadence_days
    )
    if state.min_satisfaction is not None and state.min_satisfaction <= 2:
        state.risks.append("low satisfaction")
    match = _MatchView(state)
    for survey in settings.pulse_surveys:
        opens = pulse_opens_on(programme, match, survey)  # type: ignore[arg-type]
        closes = opens + timedelta(days=settings.survey_window_days) if opens else None
        if closes is not None and closes <= today and state.responses.get(survey, 0) < 2:
            state.risks.append(f"{survey} survey unanswered")


class _MatchView:
    """Just enough of a Match for :func:`pulse_opens_on`, built from a PairState."""

    def __init__(self, state: PairState) -> None:
        self.started_at = state.started_at
        self.accepted_at = state.accepted_at
