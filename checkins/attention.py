"""What in a programme's running pairs needs a coordinator: quiet and at-risk pairs, open
alerts, and pulse surveys whose answer window closes soon.

The coordinator's home page lists this for each programme; it counts inside the
database with the rules the dashboard uses (:func:`~.health.pair_rules` over
:func:`~.health.pair_table`), so the home page and the dashboard never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from records import Alert, Programme

from .health import pair_rules, pair_table
from .settings import pulse_schedule, settings_of
from .sqldates import EPOCH, day_number
from .surveys import SURVEY_TITLES

# A survey "closes soon" when its answer window ends within this many days.
CLOSING_DAYS = 7


@dataclass(frozen=True)
class ClosingSurvey:
    """A pulse survey whose window closes soon while some pairs have not both answered."""

    survey: str
    closes_on: date
    n_pairs: int

    @property
    def title(self) -> str:
        return SURVEY_TITLES[self.survey]


@dataclass
class PairAttention:
    """One programme's counts for the coordinator's home page."""

    n_quiet: int = 0
    n_at_risk: int = 0
    n_alerts: int = 0
    closing: list[ClosingSurvey] = field(default_factory=list)


def pair_attention(
    session: Session, tenant_id: int, programme: Programme, today: date
) -> PairAttention:
    """Quiet and at-risk pairs, surveys closing within :data:`CLOSING_DAYS` and open
    alerts of ``programme`` (already admitted by the caller's access rule): two queries.
    """
    settings = settings_of(programme)
    pairs = pair_table(tenant_id, programme.id)
    rules = pair_rules(pairs, programme, settings, today)
    c = pairs.c
    today_day = day_number(today)
    soon_day = day_number(today + timedelta(days=CLOSING_DAYS))
    window = settings.survey_window_days
    closing_terms = []
    for survey in settings.pulse_surveys:
        fixed, after_start = pulse_schedule(programme, survey)
        unanswered = and_(rules.running, c[f"n_{survey}"] < 2)
        if fixed is not None:
            closes = fixed + timedelta(days=window)
            if not (fixed <= today < closes <= today + timedelta(days=CLOSING_DAYS)):
                continue
            closing_terms.append((survey, func.sum(case((unanswered, 1), else_=0)), None, closes))
        elif after_start is not None:
            opens_day = c.start_day + after_start
            closes_day = opens_day + window
            due = and_(
                unanswered, opens_day <= today_day, closes_day > today_day, closes_day <= soon_day
            )
            count = func.sum(case((due, 1), else_=0))
            first = func.min(case((due, closes_day), else_=None))
            closing_terms.append((survey, count, first, None))
    columns = [
        func.sum(case((rules.quiet, 1), else_=0)),
        func.sum(case((rules.at_risk, 1), else_=0)),
    ]
    for _survey, count, first, _closes in closing_terms:
        columns.append(count)
        if first is not None:
            columns.append(first)
    row = session.execute(select(*columns).select_from(pairs)).one()
    attention = PairAttention(n_quiet=int(row[0] or 0), n_at_risk=int(row[1] or 0))
    index = 2
    for survey, _count, first, closes in closing_terms:
        n_pairs = int(row[index] or 0)
        index += 1
        if first is not None:
            first_day = row[index]
            index += 1
            closes = None if first_day is None else EPOCH + timedelta(days=int(first_day))
        if n_pairs and closes is not None:
            attention.closing.append(ClosingSurvey(survey, closes, n_pairs))
    attention.n_alerts = int(
        session.scalar(
            select(func.count(Alert.id)).where(
                Alert.tenant_id == tenant_id,
                Alert.programme_id == programme.id,
                Alert.status == "open",
            )
        )
        or 0
    )
    return attention
