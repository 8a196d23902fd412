"""Pulse surveys: when they open, one answer per person, values in range."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from checkins import (
    AlreadyAnswered,
    Conflict,
    InvalidInput,
    NotAllowed,
    SurveyAnswer,
    answer_survey,
    close_pair,
    open_surveys,
    surveys,
)
from records import Database, SurveyResponse, make_engine, migrate
from tests.support.checkins_factory import NOW, World, make_world

PULSE = SurveyAnswer(satisfaction=4, usefulness=5, confidence=3, comment="Helpful")


def test_day30_opens_thirty_days_after_the_start(session: Session, world: World) -> None:
    pair, tenant = world.pair, world.tenant.id
    start = pair.match.accepted_at.date()
    assert (
        open_surveys(session, tenant, pair.mentee.id, pair.match.id, start + timedelta(days=29))
        == []
    )
    with pytest.raises(Conflict, match="opens on"):
        answer_survey(session, tenant, pair.mentee.id, "day30", PULSE, match_id=pair.match.id,
                      today=start + timedelta(days=29))  # fmt: skip
    day30 = start + timedelta(days=30)
    assert [
        s.survey for s in open_surveys(session, tenant, pair.mentee.id, pair.match.id, day30)
    ] == ["day30"]
    answer_survey(
        session, tenant, pair.mentee.id, "day30", PULSE, match_id=pair.match.id, today=day30
    )
    assert open_surveys(session, tenant, pair.mentee.id, pair.match.id, day30) == []


def test_a_second_answer_is_refused(session: Session, world: World) -> None:
    pair, tenant = world.pair, world.tenant.id
    day30 = pair.match.accepted_at.date() + timedelta(days=30)
    answer_survey(
        session, tenant, pair.mentor.id, "day30", PULSE, match_id=pair.match.id, today=day30
    )
    session.commit()
    with pytest.raises(AlreadyAnswered, match="you have answered the one month in survey"):
        answer_survey(
            session, tenant, pair.mentor.id, "day30", PULSE, match_id=pair.match.id, today=day30
        )
    session.rollback()
    assert len(session.scalars(select(SurveyResponse)).all()) == 1


def test_the_enrolment_baseline_is_once_per_programme(session: Session, world: World) -> None:
    pair, tenant = world.pair, world.tenant.id
    baseline = SurveyAnswer(confidence=2)
    answer_survey(
        session, tenant, pair.mentee.id, "enrolment", baseline, programme_id=world.programme.id
    )
    with pytest.raises(AlreadyAnswered):
        answer_survey(
            session, tenant, pair.mentee.id, "enrolment", baseline, programme_id=world.programme.id
        )
    with pytest.raises(NotAllowed, match="not enrolled"):
        answer_survey(
            session,
            tenant,
            world.outsider.id,
            "enrolment",
            baseline,
            programme_id=world.programme.id,
        )


def test_the_database_holds_the_enrolment_baseline_to_one_answer(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests that both pass the "answered already?" check: the second one meets
    the partial unique index (participant, survey) WHERE match_id IS NULL, and is told
    so, without spoiling the caller's transaction."""
    pair, tenant = world.pair, world.tenant.id
    baseline = SurveyAnswer(confidence=2)
    answer_survey(
        session, tenant, pair.mentee.id, "enrolment", baseline, programme_id=world.programme.id
    )
    session.commit()
    monkeypatch.setattr(surveys, "_existing", lambda *args: None)  # the race: both saw none
    with pytest.raises(AlreadyAnswered):
        answer_survey(
            session, tenant, pair.mentee.id, "enrolment", SurveyAnswer(confidence=5),
            programme_id=world.programme.id,
        )  # fmt: skip
    session.commit()
    answers = session.scalars(
        select(SurveyResponse.confidence).where(SurveyResponse.survey == "enrolment")
    ).all()
    assert answers == [2]
    # Bypassing the service as well: the database itself refuses the second row.
    session.add(
        SurveyResponse(tenant_id=tenant, participant_id=pair.mentee_participant.id,
                       survey="enrolment", confidence=4)
    )  # fmt: skip
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    # Pair surveys are unaffected: each person answers once per pair, not once overall.
    session.add(
        SurveyResponse(tenant_id=tenant, participant_id=pair.mentee_participant.id,
                       match_id=pair.match.id, survey="day30", satisfaction=4, confidence=4)
    )  # fmt: skip
    session.flush()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (SurveyAnswer(satisfaction=6, usefulness=3, confidence=3), "satisfaction 6: need 1 to 5"),
        (SurveyAnswer(satisfaction=0, usefulness=3, confidence=3), "satisfaction 0"),
        (SurveyAnswer(usefulness=3, confidence=3), "satisfaction is unanswered"),
        (
            SurveyAnswer(satisfaction=3, usefulness=3, confidence=3, goal_progress=50),
            "does not ask",
        ),
    ],
)
def test_values_out_of_range_are_refused(
    session: Session, world: World, answer: SurveyAnswer, message: str
) -> None:
    pair = world.pair
    day30 = pair.match.accepted_at.date() + timedelta(days=30)
    with pytest.raises(InvalidInput, match=message):
        answer_survey(session, world.tenant.id, pair.mentee.id, "day30", answer,
                      match_id=pair.match.id, today=day30)  # fmt: skip


def test_the_end_evaluation_opens_when_the_pair_closes(session: Session, world: World) -> None:
    pair, tenant = world.pair, world.tenant.id
    close_pair(session, tenant, pair.match.id, pair.mentee.id, "early", "moved abroad", now=NOW)
    assert [
        s.survey for s in open_surveys(session, tenant, pair.mentor.id, pair.match.id, NOW.date())
    ] == ["end"]
    answer_survey(session, tenant, pair.mentor.id, "end",
                  SurveyAnswer(satisfaction=4, usefulness=4, confidence=4, goal_progress=70),
                  match_id=pair.match.id, today=NOW.date())  # fmt: skip


def test_only_the_pair_answers(session: Session, world: World) -> None:
    pair = world.pair
    with pytest.raises(NotAllowed):
        answer_survey(session, world.tenant.id, world.coordinator.id, "day30", PULSE,
                      match_id=pair.match.id)  # fmt: skip


def test_the_migration_keeps_the_first_of_two_enrolment_answers(empty_database_url: str) -> None:
    """A database that took a second enrolment answer before 0006 still upgrades."""
    engine = make_engine(empty_database_url)
    # Today's models write today's schema: make the world at head, then step back.
    migrate.upgrade(engine)
    database = Database(empty_database_url)
    with database.transaction() as session:
        world = make_world(session)
        participant_id = world.pair.mentee_participant.id
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    with database.transaction() as session:
        for confidence in (2, 5):
            session.add(SurveyResponse(tenant_id=world.tenant.id, participant_id=participant_id,
                                       survey="enrolment", confidence=confidence))  # fmt: skip
            session.flush()
    migrate.upgrade(engine)
    with database.sessionmaker() as session:
        assert session.scalars(select(SurveyResponse.confidence)).all() == [2]
    database.dispose()
    engine.dispose()
