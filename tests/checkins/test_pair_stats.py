"""Each pair's running figures: the services keep them equal to a fresh count.

After every write of a sequence (check-ins in and out of date order, answers, a
refused check-in, a second answer refused, a close, an end evaluation, a re-match, a
new pair for the re-matched mentee) the figures on the pairs' rows must equal what
:func:`recount_pairs` counts from the check-ins and answers themselves; and migration
0008 must backfill a database that had rows before it with the same figures.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from checkins import (
    AlreadyAnswered,
    CheckinDraft,
    InvalidInput,
    SurveyAnswer,
    answer_survey,
    close_pair,
    log_checkin,
    rematch_pair,
)
from checkins.pairstats import TALLIES, recount_pairs
from records import Database, Match, make_engine, migrate
from records.relationships import CheckinDay, SurveyTally
from tests.support.checkins_factory import NOW, TODAY, World, make_pair, make_world

FIGURES = (
    Match.id,
    Match.checkin_count,
    Match.checkin_minutes,
    Match.last_checkin_on,
    Match.min_satisfaction,
    Match.day30_answers,
    Match.midpoint_answers,
    Match.close_answers,
    Match.end_answers,
)


def figures(session: Session, programme_id: int) -> list[tuple]:
    """The pairs' rows, then the programme's check-ins by day and its survey tallies."""
    session.flush()
    queries = [
        select(*FIGURES).where(Match.programme_id == programme_id).order_by(Match.id),
        select(CheckinDay.met_on, CheckinDay.checkins)
        .where(CheckinDay.programme_id == programme_id, CheckinDay.checkins > 0)
        .order_by(CheckinDay.met_on),
        select(SurveyTally.survey, *(getattr(SurveyTally, name) for name in TALLIES))
        .where(SurveyTally.programme_id == programme_id)
        .order_by(SurveyTally.survey),
    ]
    return [tuple(row) for query in queries for row in session.execute(query)]


def kept_equals_recounted(session: Session, world: World) -> list[tuple]:
    """The figures the services kept, after checking that a recount finds the same."""
    kept = figures(session, world.programme.id)
    recount_pairs(session, world.tenant.id, world.programme.id)
    assert figures(session, world.programme.id) == kept
    return kept


def writes(session: Session, world: World):  # type: ignore[no-untyped-def]
    """The sequence of writes, one step at a time."""
    tenant = world.tenant.id
    first, second = world.pairs
    day30 = first.match.accepted_at.date() + timedelta(days=30)

    def checkin(pair, days_ago: int, minutes: int) -> None:  # type: ignore[no-untyped-def]
        log_checkin(session, tenant, pair.match.id, pair.mentee.id,
                    CheckinDraft(met_on=TODAY - timedelta(days=days_ago),
                                 duration_minutes=minutes), now=NOW)  # fmt: skip

    yield checkin(first, 3, 60)
    yield checkin(first, 1, 45)
    yield checkin(first, 4, 30)  # logged late: the last meeting stays the newest
    yield checkin(second, 2, 90)
    with pytest.raises(InvalidInput):
        checkin(second, -3, 30)  # in the future: refused, nothing counted
    yield None
    for member, satisfaction in ((first.mentee, 4), (first.mentor, 2), (second.mentee, 5)):
        pair = first if member in (first.mentee, first.mentor) else second
        answer_survey(session, tenant, member.id, "day30",
                      SurveyAnswer(satisfaction=satisfaction, usefulness=3, confidence=3),
                      match_id=pair.match.id, today=day30)  # fmt: skip
        yield None
    with pytest.raises(AlreadyAnswered):
        answer_survey(session, tenant, first.mentee.id, "day30",
                      SurveyAnswer(satisfaction=1, usefulness=1, confidence=1),
                      match_id=first.match.id, today=day30)  # fmt: skip
    yield None
    answer_survey(session, tenant, second.mentee.id, "enrolment", SurveyAnswer(confidence=2),
                  programme_id=world.programme.id)  # fmt: skip
    yield None
    yield close_pair(session, tenant, second.match.id, second.mentee.id, "early", "moved", now=NOW)
    yield answer_survey(session, tenant, second.mentor.id, "end",
                        SurveyAnswer(satisfaction=3, usefulness=3, confidence=4, goal_progress=50),
                        match_id=second.match.id, today=TODAY)  # fmt: skip
    yield rematch_pair(
        session, tenant, first.match.id, world.coordinator.id,
        programme_id=world.programme.id, reason="distance",
    )  # fmt: skip
    again = make_pair(session, world.tenant, world.programme, "Rita Rematch", "Milo Again")
    yield checkin(again, 0, 30)


def test_the_running_figures_equal_a_recount_after_every_write(
    session: Session, world: World
) -> None:
    for _ in writes(session, world):
        kept = kept_equals_recounted(session, world)
    first, second = world.pairs
    by_id = {row[0]: row[1:] for row in kept if isinstance(row[0], int)}
    assert by_id[first.match.id] == (3, 135, TODAY - timedelta(days=1), 2, 2, 0, 0, 0)
    assert by_id[second.match.id] == (1, 90, TODAY - timedelta(days=2), 5, 1, 0, 0, 1)
    assert len(by_id) == 3 and (1, 30, TODAY, None, 0, 0, 0, 0) in by_id.values()
    days = {row[0]: row[1] for row in kept if len(row) == 2}
    assert days == {TODAY - timedelta(days=n): 1 for n in (0, 1, 2, 3, 4)}
    tallies = {row[0]: row[1:] for row in kept if isinstance(row[0], str)}
    # day30: three answers, confidence 3 each; only the second mentee has a baseline
    # (2), given after the answer: one change of +1.
    assert tallies["day30"] == (3, 11, 3, 9, 3, 1, 1)
    assert tallies["enrolment"] == (1, 0, 0, 2, 1, 0, 0)
    assert tallies["end"] == (1, 3, 1, 4, 1, 0, 0)
    session.commit()


def test_the_migration_backfills_the_figures(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine)
    database = Database(empty_database_url)
    with database.transaction() as session:
        world = make_world(session, n_pairs=2)
        for _ in writes(session, world):
            pass
        kept = figures(session, world.programme.id)
        programme_id = world.programme.id
    # Back to before 0008 (the figures' columns go), and up again: counted from the rows.
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    migrate.upgrade(engine)
    with database.sessionmaker() as session:
        assert figures(session, programme_id) == kept
        assert any(row[1] for row in kept) and any(row[5] for row in kept)
    # Check constraints escape autogenerate's comparison: look at them directly.
    checks = {c["name"] for c in inspect(engine).get_check_constraints("matches")}
    assert {"ck_matches_checkin_count", "ck_matches_end_answers",
            "ck_matches_min_satisfaction"} <= checks  # fmt: skip
    checks = {c["name"] for c in inspect(engine).get_check_constraints("survey_tallies")}
    assert checks == {"ck_survey_tallies_survey", "ck_survey_tallies_counts"}
    database.dispose()
    engine.dispose()
