"""The dashboard's figures, its fixed query count, the export, and the demo cohort."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from checkins import (
    CheckinDraft,
    SurveyAnswer,
    answer_survey,
    close_pair,
    flag_pair,
    log_checkin,
)
from checkins.dashboard import programme_dashboard
from checkins.demo import PREVIOUS_NAME, seed_previous_cohort
from checkins.export import evaluation_csv
from programmes import seed_demo
from records import Alert, Programme
from tests.support.checkins_factory import NOW, TODAY, World, make_pair

NOTE = "PRIVATE-NOTE-xyz"


def populate(session: Session, world: World) -> None:
    pair, other = world.pairs
    tenant = world.tenant.id
    answer_survey(session, tenant, pair.mentee.id, "enrolment", SurveyAnswer(confidence=2),
                  programme_id=world.programme.id)  # fmt: skip
    log_checkin(session, tenant, pair.match.id, pair.mentee.id,
                CheckinDraft(met_on=TODAY - timedelta(days=2), duration_minutes=60,
                             private_notes=NOTE, summary="shared"), now=NOW)  # fmt: skip
    day30 = pair.match.accepted_at.date() + timedelta(days=30)
    answer_survey(session, tenant, pair.mentee.id, "day30",
                  SurveyAnswer(satisfaction=2, usefulness=3, confidence=4, comment="Milo says hi"),
                  match_id=pair.match.id, today=day30)  # fmt: skip
    close_pair(session, tenant, other.match.id, other.mentee.id, "early", "moved", now=NOW)
    session.flush()


def test_figures_and_watch_lists(session: Session, world: World) -> None:
    populate(session, world)
    board = programme_dashboard(
        session, world.tenant.id, world.programme.id, TODAY + timedelta(days=30)
    )
    figures = board.current
    assert (figures.n_mentees, figures.n_matched, figures.match_rate) == (2, 2, 1.0)
    assert figures.days_to_match == 5.0
    assert (figures.n_running, figures.n_closed, figures.n_early, figures.early_end_rate) == (
        1,
        1,
        1,
        1.0,
    )
    assert figures.satisfaction == 2.0
    assert (figures.confidence_change, figures.confidence_change_stage) == (2.0, "day30")
    assert [r.match_id for r in board.at_risk] == [world.pair.match.id]
    assert "low satisfaction" in board.at_risk[0].reasons
    assert "<svg" in board.checkins_chart.svg and "http" not in board.checkins_chart.svg.replace(
        "http://www.w3.org/2000/svg", ""
    )
    assert NOTE not in repr(board)


def count_queries(session: Session, fn) -> int:
    engine = session.get_bind()
    statements: list[str] = []

    def before(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


def test_query_count_does_not_grow_with_the_programme(session: Session, world: World) -> None:
    populate(session, world)
    session.commit()
    small = count_queries(
        session, lambda: programme_dashboard(session, world.tenant.id, world.programme.id, TODAY)
    )
    session.expunge_all()
    for i in range(12):
        pair = make_pair(
            session, world.tenant, world.programme, f"Extra Mentor{i}", f"Extra Mentee{i}"
        )
        log_checkin(session, world.tenant.id, pair.match.id, pair.mentee.id,
                    CheckinDraft(met_on=TODAY, duration_minutes=30), now=NOW)  # fmt: skip
    session.commit()
    session.expunge_all()
    large = count_queries(
        session, lambda: programme_dashboard(session, world.tenant.id, world.programme.id, TODAY)
    )
    assert large == small


def test_export_is_anonymised_and_never_has_notes(session: Session, world: World) -> None:
    populate(session, world)
    text = evaluation_csv(session, world.tenant.id, world.programme.id)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["survey"] for r in rows} == {"enrolment", "day30"}
    assert "name" not in rows[0] and "comment" not in rows[0]
    for secret in (NOTE, "Milo", "Mentee", "example.org", "shared", "Milo says hi"):
        assert secret not in text
    named = evaluation_csv(session, world.tenant.id, world.programme.id, anonymise=False)
    assert "Milo Mentee" in named and "Milo says hi" in named
    assert NOTE not in named


def test_the_demo_previous_cohort_feeds_the_dashboard(session: Session) -> None:
    tenant = seed_demo(session)  # seeds the previous cohort too
    previous = session.scalars(select(Programme).where(Programme.name == PREVIOUS_NAME)).one()
    assert previous.tenant_id == tenant.id
    assert seed_previous_cohort(session, tenant.id) is None
    current = session.scalars(
        select(Programme).where(Programme.copied_from_id == previous.id)
    ).one()
    board = programme_dashboard(session, tenant.id, previous.id, date.today())
    assert len(board.quiet) == 2
    assert len(board.at_risk) >= 2
    assert board.current.n_closed == 3 and board.current.n_early == 1
    assert board.current.confidence_change is not None and board.current.confidence_change > 0
    compared = programme_dashboard(session, tenant.id, current.id, date.today())
    assert compared.previous is not None and compared.previous.name == PREVIOUS_NAME


def test_alerts_name_their_pairs_counted_or_not(session: Session, world: World) -> None:
    """Flagged pairs are named whether or not the figures count them (a proposed pair)."""
    tenant = world.tenant.id
    flag_pair(session, tenant, world.pair.match.id, world.pair.mentee.id, "hard to reach")
    proposed = make_pair(session, world.tenant, world.programme, "Pia Proposed", "Paul Pending",
                         status="proposed")  # fmt: skip
    session.add(Alert(tenant_id=tenant, programme_id=world.programme.id,
                      match_id=proposed.match.id, kind="member_flag",
                      detail={"reason": "not sure"}))  # fmt: skip
    session.flush()
    board = programme_dashboard(session, tenant, world.programme.id, TODAY)
    assert {a["pair"] for a in board.alerts} == {
        "Maya Mentor & Milo Mentee",
        "Pia Proposed & Paul Pending",
    }
