"""The coordinator's programme dashboard, from a fixed number of aggregate queries.

Whatever the programme's size, each cohort's figures are counted inside the database
(:func:`cohort_figures`) from running figures that the services keep as check-ins and
answers arrive (:mod:`.pairstats`), never from the check-ins and answers themselves:
participants by role, one row of conditional aggregates over the pairs' rows
(:func:`~checkins.health.pair_rules`, which also yields the first quiet and
at-risk pairs: a LIMIT, not the whole programme), the median wait for a match, the
programme's survey tallies, and its check-ins by day. The same again for the previous
cohort; then the open alerts, the listed and flagged pairs' states, and their members.
Private notes are never read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, and_, case, func, literal, null, select, union_all
from sqlalchemy.orm import Session, aliased

import translations
from records import Alert, Match, Member, Participant, Programme, utcnow
from records.relationships import CheckinDay, SurveyTally

from .charts import Chart, Series
from .health import COUNTED, PairState, pair_rules, pair_states, pair_table
from .pairs import get_programme
from .settings import PULSES, month_of_programme, settings_of
from .sqldates import days_between
from .surveys import SURVEY_TITLES

STAGES = ("enrolment", *PULSES, "end")
DAYS_PER_MONTH = 30.44
WATCH_LIMIT = 50
# Built once: an alias adapts its columns on first use, which costs more than the query.
_MENTOR, _MENTEE = aliased(Participant), aliased(Participant)


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
    n_quiet: int = 0
    n_at_risk: int = 0
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

    @property
    def confidence_change_survey(self) -> str | None:
        """The title (English, marked for translation) of the survey the change is at."""
        stage = self.confidence_change_stage
        return SURVEY_TITLES.get(stage) if stage else None


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
    checkins_chart: Chart
    confidence_chart: Chart
    n_quiet: int = 0
    n_at_risk: int = 0


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class _Watch:
    """The first quiet and at-risk pairs of a cohort, by match id, in the page's order."""

    quiet: list[int] = field(default_factory=list)
    at_risk: list[int] = field(default_factory=list)


def cohort_figures(
    session: Session, tenant_id: int, programme: Programme, today: date, *, watch: bool = False
) -> tuple[CohortFigures, _Watch]:
    """The figures of one programme, counted inside the database.

    Five queries whatever the size: participants by role; the pairs' sums (one row of
    conditional aggregates over :func:`~.health.pair_table`, with, when ``watch``, the
    first WATCH_LIMIT quiet and at-risk pairs from the same materialised rows); the
    median wait for a match; the survey tallies (a row per survey); check-ins by day (a
    row per day).
    """
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
    watch_ids = _Watch()
    (n_pairs, n_matched, n_running, n_active, figures.n_quiet, figures.n_at_risk, n_closed,
     n_early, n_checkins, pair_days, expected, answered, n_waits) = _pair_sums(
        session, tenant_id, programme, today, watch_ids if watch else None
    )  # fmt: skip
    figures.n_matched = n_matched
    figures.match_rate = _ratio(n_matched, figures.n_mentees)
    figures.days_to_match = _median_days_to_match(session, tenant_id, programme.id, n_waits)
    figures.n_pairs = n_pairs
    figures.n_running = n_running
    figures.n_active = n_active
    figures.active_share = _ratio(n_active, n_running)
    pair_months = pair_days / DAYS_PER_MONTH
    figures.meetings_per_pair_month = round(n_checkins / pair_months, 2) if pair_months else None
    figures.response_rate = _ratio(answered, expected)
    figures.n_closed = n_closed
    figures.n_early = n_early
    figures.early_end_rate = _ratio(n_early, n_closed)

    # Answers by survey, with each answer's change from the person's enrolment baseline
    # (one per participant: a partial unique index holds it), summed as they came in.
    tallies = session.execute(
        select(
            SurveyTally.survey,
            SurveyTally.satisfaction_sum,
            SurveyTally.satisfaction_count,
            SurveyTally.confidence_sum,
            SurveyTally.confidence_count,
            SurveyTally.change_sum,
            SurveyTally.change_count,
        ).where(SurveyTally.tenant_id == tenant_id, SurveyTally.programme_id == programme.id)
    ).all()
    pulses = [row for row in tallies if row.survey in PULSES]
    n_sat = sum(row.satisfaction_count for row in pulses)
    figures.satisfaction = (
        round(sum(row.satisfaction_sum for row in pulses) / n_sat, 2) if n_sat else None
    )
    figures.confidence_by_stage = {
        row.survey: round(row.confidence_sum / row.confidence_count, 2)
        for row in tallies
        if row.confidence_count
    }
    changes = {
        row.survey: row.change_sum / row.change_count
        for row in tallies
        if row.change_count and row.survey != "enrolment"
    }
    # The latest stage answered so far: the end evaluation, else close, midpoint, day 30.
    for stage in ("end", "close", "midpoint", "day30"):
        if stage in changes:
            figures.confidence_change = round(changes[stage], 2)
            figures.confidence_change_stage = stage
            break

    by_day = session.execute(
        select(CheckinDay.met_on, CheckinDay.checkins).where(
            CheckinDay.tenant_id == tenant_id,
            CheckinDay.programme_id == programme.id,
            CheckinDay.checkins > 0,
        )
    ).all()
    months: dict[int, int] = {}
    for day, count in by_day:
        index = month_of_programme(programme, day)
        months[index] = months.get(index, 0) + count
    n_months = max(months, default=-1) + 1
    figures.checkins_by_month = [months.get(i, 0) for i in range(n_months)]
    return figures, watch_ids


def _pair_sums(
    session: Session, tenant_id: int, programme: Programme, today: date, watch: _Watch | None
) -> list[int]:
    """The pairs' counts and sums in one statement; fills ``watch`` from the same rows.

    Returns n_pairs, n_matched, n_running, n_active, n_quiet, n_at_risk, n_closed,
    n_early, n_checkins, pair_days, answers expected, answers given, and how many pairs
    have a wait for a match (accepted, not re-matched).
    """
    pairs = pair_table(tenant_id, programme.id)
    rules = pair_rules(pairs, programme, settings_of(programme), today)

    def how_many(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    c = pairs.c
    closed = c.status == "closed"
    sums = [
        func.count(),
        func.count(func.distinct(case((c.status != "rematched", c.mentee_participant_id)))),
        how_many(rules.running),
        how_many(rules.active),
        how_many(rules.quiet),
        how_many(rules.at_risk),
        how_many(closed),
        # end_outcome(): "early: <reason>" (substr, not LIKE: SQLite's LIKE ignores case)
        how_many(and_(closed, func.substr(c.end_reason, 1, 5) == "early")),
        func.coalesce(func.sum(c.n_checkins), 0),
        func.coalesce(func.sum(rules.pair_days), 0),
        func.coalesce(func.sum(rules.expected), 0),
        func.coalesce(func.sum(rules.answered), 0),
        how_many(and_(c.status != "rematched", c.accepted)),
    ]  # fmt: skip
    statement = select(literal("sums"), literal(0), *sums).select_from(pairs)
    if watch is not None:
        # The longest-quiet first (never met before met long ago), at-risk in match order.
        lists = [
            ("quiet", rules.quiet, (rules.last_day.is_not(None), rules.last_day, pairs.c.match_id)),
            ("at_risk", rules.at_risk, (pairs.c.match_id,)),
        ]
        branches = []
        for kind, condition, order in lists:
            first = (
                select(pairs.c.match_id, func.row_number().over(order_by=order).label("position"))
                .where(condition)
                .order_by(*order)
                .limit(WATCH_LIMIT)
                .subquery()
            )
            padding = [null()] * (len(sums) - 1)
            branches.append(select(literal(kind), first.c.position, first.c.match_id, *padding))
        statement = union_all(statement, *branches)
    rows = session.execute(statement).all()
    result: list[int] = []
    listed: dict[str, list[tuple[int, int]]] = {"quiet": [], "at_risk": []}
    for kind, position, *values in rows:
        if kind == "sums":
            result = [int(v or 0) for v in values]
        else:
            listed[kind].append((position, values[0]))
    if watch is not None:
        watch.quiet = [match_id for _, match_id in sorted(listed["quiet"])]
        watch.at_risk = [match_id for _, match_id in sorted(listed["at_risk"])]
    return result


def _median_days_to_match(
    session: Session, tenant_id: int, programme_id: int, n_waits: int
) -> float | None:
    """The median days from the mentee's enrolment to the pair's acceptance.

    ``n_waits`` (from :func:`_pair_sums`) places the middle: an ORDER BY with an OFFSET
    reads one or two rows out, where ranking every wait in a window cost as much again.
    """
    if not n_waits:
        return None
    mentee = _MENTEE
    wait = days_between(Match.accepted_at, mentee.enrolled_at)
    middle = session.scalars(
        select(wait)
        .join(mentee, mentee.id == Match.mentee_participant_id)
        .where(
            Match.tenant_id == tenant_id,
            Match.programme_id == programme_id,
            Match.status.in_(COUNTED),
            Match.status != "rematched",
            Match.accepted_at.is_not(None),
        )
        .order_by(wait)
        .offset((n_waits - 1) // 2)
        .limit(2 - n_waits % 2)
    ).all()
    return round(sum(float(w) for w in middle) / len(middle), 1) if middle else None


def programme_dashboard(
    session: Session,
    tenant_id: int,
    programme_id: int,
    today: date | None = None,
    t: translations.Translator | None = None,
) -> Dashboard:
    """Everything the coordinator's dashboard shows, this cohort beside the previous one.

    ``t`` words the charts in the reader's language (the web layer passes its
    translator; English by default).

    Raises:
        NotFound: the programme is not this tenant's.
    """
    today = today or utcnow().date()
    programme = get_programme(session, tenant_id, programme_id)
    current, watch = cohort_figures(session, tenant_id, programme, today, watch=True)
    previous = None
    if programme.copied_from_id is not None:
        before = session.scalars(
            select(Programme).where(
                Programme.id == programme.copied_from_id, Programme.tenant_id == tenant_id
            )
        ).first()
        if before is not None:
            previous, _ = cohort_figures(session, tenant_id, before, today)

    # The page lists WATCH_LIMIT quiet and at-risk pairs and counts the rest.
    quiet_ids, risky_ids = watch.quiet, watch.at_risk
    n_quiet, n_at_risk = current.n_quiet, current.n_at_risk
    alerts = session.scalars(
        select(Alert)
        .where(
            Alert.tenant_id == tenant_id, Alert.programme_id == programme.id, Alert.status == "open"
        )
        .order_by(Alert.raised_at.desc(), Alert.id.desc())
        .limit(200)
    ).all()
    flagged_matches = {a.match_id for a in alerts if a.match_id}
    # The states of the listed and flagged pairs carry their members: names come by
    # member id (a primary-key lookup each) rather than by joining participants.
    wanted = {*quiet_ids, *risky_ids, *flagged_matches}
    states = (
        {s.match_id: s for s in pair_states(session, tenant_id, programme, today, match_ids=wanted)}
        if wanted
        else {}
    )
    quiet_states = [states[i] for i in quiet_ids]
    risky_states = [states[i] for i in risky_ids]
    pair_members = {s.match_id: (s.mentor_member_id, s.mentee_member_id) for s in states.values()}
    uncounted = flagged_matches - set(states)
    if uncounted:
        # A flag on a pair that is not counted (proposed, say): read its members directly.
        mentor_p, mentee_p = _MENTOR, _MENTEE
        for match_id, mentor_id, mentee_id in session.execute(
            select(Match.id, mentor_p.member_id, mentee_p.member_id)
            .join(mentor_p, mentor_p.id == Match.mentor_participant_id)
            .join(mentee_p, mentee_p.id == Match.mentee_participant_id)
            .where(Match.tenant_id == tenant_id, Match.id.in_(uncounted))
        ).all():
            pair_members[match_id] = (mentor_id, mentee_id)
    member_ids = {m for pair in pair_members.values() for m in pair}
    members = (
        {
            m.id: m
            for m in session.scalars(
                select(Member).where(Member.tenant_id == tenant_id, Member.id.in_(member_ids))
            )
        }
        if member_ids
        else {}
    )
    pair_names: dict[int, tuple[str, str]] = {
        match_id: (members[mentor].name, members[mentee].name)
        for match_id, (mentor, mentee) in pair_members.items()
        if mentor in members and mentee in members
    }

    def row(s: PairState, reasons: list[str]) -> PairRow:
        mentor, mentee = pair_names.get(s.match_id, ("?", "?"))
        return PairRow(s.match_id, mentor, mentee, s.last_met_on, reasons)

    quiet = [
        row(s, [f"no check-in since {(s.last_met_on or s.start or today):%d %b}"])
        for s in quiet_states
    ]
    at_risk = [row(s, s.risks) for s in risky_states]
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

    checkins_chart, confidence_chart = charts(current, previous, t or translations.for_locale(None))
    return Dashboard(
        programme, current, previous, quiet, at_risk, alert_rows, checkins_chart,
        confidence_chart, n_quiet, n_at_risk,
    )  # fmt: skip


def charts(
    current: CohortFigures, previous: CohortFigures | None, t: translations.Translator
) -> tuple[Chart, Chart]:
    """The dashboard's two charts: check-ins by month, and confidence by survey."""

    def named(cohort: CohortFigures, is_current: bool) -> str:
        if is_current:
            return t.gettext("This cohort: %(name)s", name=cohort.name)
        return t.gettext("Previous cohort: %(name)s", name=cohort.name)

    cohorts = [(current, True)] + ([(previous, False)] if previous else [])
    n_months = max(max(len(c.checkins_by_month) for c, _ in cohorts), 1)

    def padded(values: list[int]) -> list[float | None]:
        return [float(v) for v in values] + [None] * (n_months - len(values))

    checkins_chart = Chart(
        key="checkins",
        kind="line",
        title=t.gettext("Check-ins logged in each month of the programme"),
        x_name=t.gettext("Month of the programme (1 = its first month)"),
        y_name=t.gettext("Check-ins logged (number)"),
        labels=[str(i + 1) for i in range(n_months)],
        series=[Series(named(c, now), padded(c.checkins_by_month)) for c, now in cohorts],
        integer_ticks=True,
        empty_text=t.gettext("no data"),
    )
    stages = [s for s in STAGES if any(s in c.confidence_by_stage for c, _ in cohorts)]
    confidence_chart = Chart(
        key="confidence",
        kind="bar",
        title=t.gettext("Mean confidence at each survey"),
        x_name=t.gettext("Survey"),
        y_name=t.gettext("Mean confidence (1 = low, 5 = high)"),
        labels=[t.gettext(SURVEY_TITLES[s]) for s in stages],
        series=[
            Series(named(c, now), [c.confidence_by_stage.get(s) for s in stages])
            for c, now in cohorts
        ],
        top=5.0,
        decimals=1,
        empty_text=t.gettext("no data"),
    )
    return checkins_chart, confidence_chart
