"""How each pair of a programme is doing, from a fixed number of queries.

Both read each pair's running figures from its own row (:mod:`.pairstats`), never the
pair's check-ins and answers.

The rules live here twice, side by side: :func:`judge` applies them to one pair in
Python (alerts, reminders, the watch lists), :func:`pair_rules` states them in SQL so
that the dashboard counts quiet, active and at-risk pairs inside the database. Tests
hold the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import CTE

from records import Match, Participant, Programme

from .pairstats import ANSWER_COLUMNS, PAIR_SURVEYS
from .settings import CheckinSettings, pulse_opens_on, pulse_schedule, settings_of
from .sqldates import day_number, unix_day

RUNNING = ("accepted", "active")
# Pairs the figures count: everything that got past match day.
COUNTED = ("accepted", "active", "closed", "rematched")
# Built once: an alias adapts its columns on first use, which costs more than the query.
_MENTOR, _MENTEE = aliased(Participant), aliased(Participant)


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


@cache
def _pair_rows(*, some: bool) -> Select[Any]:
    """The statement of :func:`pair_states`, for every pair or ``some`` (``match_ids``),
    built once: every member's home asks it."""
    mentor, mentee = _MENTOR, _MENTEE
    query = (
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
            Match.checkin_count,
            Match.checkin_minutes,
            Match.last_checkin_on,
            Match.min_satisfaction,
            *(getattr(Match, ANSWER_COLUMNS[name]) for name in PAIR_SURVEYS),
        )
        .join(mentor, mentor.id == Match.mentor_participant_id)
        .join(mentee, mentee.id == Match.mentee_participant_id)
        .where(
            Match.tenant_id == bindparam("tenant_id"),
            Match.programme_id == bindparam("programme_id"),
            Match.status.in_(COUNTED),
        )
        .order_by(Match.id)
    )
    if some:
        query = query.where(Match.id.in_(bindparam("match_ids", expanding=True)))
    return query


def pair_states(
    session: Session,
    tenant_id: int,
    programme: Programme,
    today: date,
    *,
    match_ids: Iterable[int] | None = None,
) -> list[PairState]:
    """Every counted pair of ``programme`` (or just ``match_ids``) with the quiet / active /
    at-risk verdicts, in match order."""
    wanted = list(match_ids) if match_ids is not None else None
    query = _pair_rows(some=wanted is not None)
    params = {"tenant_id": tenant_id, "programme_id": programme.id, "match_ids": wanted}
    rows = session.execute(query, params).all()
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
            responses={name: int(row[13 + i] or 0) for i, name in enumerate(PAIR_SURVEYS)},
        )
        judge(state, programme, settings, today)
        states.append(state)
    return states


def pair_table(tenant_id: int, programme_id: int) -> CTE:
    """One row per counted pair: status, start/end/last-met, check-in and answer counts.

    What :func:`pair_rules` reads; a materialised CTE over the pairs' own rows (their
    running figures, :mod:`.pairstats`), so that a statement may read it more than once
    (the figures and both watch lists) for the price of one. A pair starts when both
    accepted, else when it started (as :func:`~.settings.match_start`); ``start_day``,
    ``end_day`` and ``last_day`` are :func:`~.sqldates.unix_day` numbers.
    """
    return (
        select(
            Match.id.label("match_id"),
            Match.status,
            Match.mentee_participant_id,
            Match.end_reason,
            unix_day(func.coalesce(Match.accepted_at, Match.started_at)).label("start_day"),
            unix_day(Match.ended_at).label("end_day"),
            Match.accepted_at.is_not(None).label("accepted"),
            Match.last_checkin_on.label("last_met_on"),
            # Once per pair here, not once per rule below (SQLite's date parsing adds up).
            unix_day(Match.last_checkin_on).label("last_day"),
            Match.checkin_count.label("n_checkins"),
            Match.min_satisfaction,
            *(getattr(Match, ANSWER_COLUMNS[name]).label(f"n_{name}") for name in PAIR_SURVEYS),
        )
        .where(
            Match.tenant_id == tenant_id,
            Match.programme_id == programme_id,
            Match.status.in_(COUNTED),
        )
        .cte("pairs")
        .prefix_with("MATERIALIZED")
    )


@dataclass(frozen=True)
class PairRules:
    """:func:`judge` and the dashboard's per-pair sums, as SQL over a :func:`pair_table`."""

    running: ColumnElement[bool]
    active: ColumnElement[bool]
    quiet: ColumnElement[bool]
    at_risk: ColumnElement[bool]
    # Pulse (and end) answers expected from both sides so far, and given (2 at most each).
    expected: ColumnElement[int]
    answered: ColumnElement[int]
    # Days the pair has run (at least 1), for meetings per pair-month.
    pair_days: ColumnElement[int]
    last_day: ColumnElement[int]


def pair_rules(
    pairs: CTE, programme: Programme, settings: CheckinSettings, today: date
) -> PairRules:
    """The SQL form of :func:`judge` and of the dashboard's response-rate and pair-month
    sums; every date cut-off is computed here and bound as a parameter."""
    c = pairs.c
    today_day = day_number(today)
    last_day = c.last_day
    start_day = c.start_day
    running = c.status.in_(RUNNING)
    reference = func.coalesce(last_day, start_day)
    judged = and_(running, reference.is_not(None))
    quiet = and_(judged, reference < today_day - settings.cadence_days - settings.grace_days)
    active = and_(judged, last_day >= today_day - settings.cadence_days)

    unanswered = []
    expected: list[ColumnElement] = []
    answered: list[ColumnElement] = []
    window = settings.survey_window_days
    for survey in settings.pulse_surveys:
        fixed, after_start = pulse_schedule(programme, survey)
        n = c[f"n_{survey}"]
        if fixed is not None:
            closed_by_today = literal(fixed + timedelta(days=window) <= today)
            open_by_today = literal(fixed <= today)
            opens_by_end = or_(c.end_day.is_(None), c.end_day >= day_number(fixed))
        elif after_start is not None:
            closed_by_today = start_day <= today_day - after_start - window
            open_by_today = start_day <= today_day - after_start
            opens_by_end = or_(c.end_day.is_(None), start_day + after_start <= c.end_day)
        else:
            continue
        unanswered.append(and_(closed_by_today, n < 2))
        due = and_(open_by_today, opens_by_end)
        expected.append(case((due, 2), else_=0))
        answered.append(case((due, _at_most_two(n)), else_=0))
    closed = c.status == "closed"
    expected.append(case((closed, 2), else_=0))
    answered.append(case((closed, _at_most_two(c.n_end)), else_=0))
    at_risk = and_(judged, or_(c.min_satisfaction <= 2, *unanswered, false()))

    started = start_day.is_not(None)
    end_day = func.coalesce(c.end_day, today_day)
    return PairRules(
        running=running,
        active=active,
        quiet=quiet,
        at_risk=at_risk,
        expected=case((started, _plus(expected)), else_=0),
        answered=case((started, _plus(answered)), else_=0),
        pair_days=case((~started, 0), (end_day - start_day < 1, 1), else_=end_day - start_day),
        last_day=last_day,
    )


def _at_most_two(n: ColumnElement) -> ColumnElement:
    return case((n > 2, 2), else_=n)


def _plus(terms: list[ColumnElement]) -> ColumnElement:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


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
