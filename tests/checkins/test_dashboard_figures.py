"""The dashboard counts inside the database; here a plain Python count must agree.

A seeded mix of pairs (every counted status, missing start dates, early and completed
ends, pairs that never met, extra and missing survey answers) is counted twice: by
``programme_dashboard`` and by the straightforward computation below, which reads every
row into Python and applies :func:`checkins.health.judge` pair by pair.
"""

from __future__ import annotations

import random
import statistics
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkins.closing import end_outcome
from checkins.dashboard import DAYS_PER_MONTH, WATCH_LIMIT, programme_dashboard
from checkins.health import COUNTED, PairState, judge, pair_states
from checkins.pairstats import recount_pairs
from checkins.settings import PULSES, month_of_programme, pulse_opens_on, settings_of
from records import CheckIn, Match, Participant, Programme, SurveyResponse
from tests.support.checkins_factory import NOW, TODAY, make_pair, make_world

STATUSES = ["active", "active", "accepted", "closed", "rematched", "proposed", "declined"]


def seed_mix(session: Session, *, seed: int, ends_on: bool, pulses: list[str] | None) -> Programme:
    rng = random.Random(seed)
    settings = {"pulse_surveys": pulses} if pulses is not None else {}
    world = make_world(session, slug=f"mix{seed}", settings=settings, n_pairs=0)
    programme = world.programme
    if not ends_on:
        programme.ends_on = None
    for i in range(28):
        accepted = NOW - timedelta(days=rng.randint(0, 150), hours=rng.randint(0, 23))
        pair = make_pair(session, world.tenant, programme, f"Mentor M{i}", f"Mentee E{i}",
                         status=rng.choice(STATUSES), accepted_at=accepted)  # fmt: skip
        match = pair.match
        pair.mentee_participant.enrolled_at = accepted - timedelta(
            days=rng.randint(1, 30), minutes=rng.randint(0, 600)
        )
        start = rng.random()
        if start < 0.15:
            match.accepted_at, match.started_at = None, accepted  # started, never "accepted"
        elif start < 0.25:
            match.accepted_at = None  # no start at all
        if match.status == "closed":
            match.ended_at = accepted + timedelta(days=rng.randint(0, 120))
            match.end_reason = rng.choice(["completed", "early: moved", "Early: sic", None])
        for _ in range(rng.choice([0, 0, 1, 3, 6])):
            session.add(
                CheckIn(tenant_id=world.tenant.id, match_id=match.id,
                        logged_by_participant_id=pair.mentee_participant.id,
                        met_on=TODAY - timedelta(days=rng.randint(0, 160)),
                        duration_minutes=rng.choice([30, 60]))
            )  # fmt: skip
        sides = (pair.mentor_participant, pair.mentee_participant)
        for side in sides:
            if rng.random() < 0.8:
                session.add(
                    SurveyResponse(tenant_id=world.tenant.id, participant_id=side.id,
                                   survey="enrolment", confidence=rng.randint(1, 5))
                )  # fmt: skip
            for survey in (*PULSES, "end"):
                if rng.random() < 0.45:
                    session.add(
                        SurveyResponse(
                            tenant_id=world.tenant.id, participant_id=side.id,
                            match_id=match.id, survey=survey,
                            satisfaction=rng.randint(1, 5), usefulness=3,
                            confidence=rng.choice([None, 1, 2, 3, 4, 5]),
                        )
                    )  # fmt: skip
    session.flush()
    # The rows were written around the services: count the pairs' figures from them.
    recount_pairs(session, world.tenant.id, programme.id)
    return programme


def python_states(session: Session, programme: Programme, today: date) -> list[PairState]:
    """Every counted pair, read row by row and judged in Python."""
    tenant_id = programme.tenant_id
    matches = session.scalars(
        select(Match)
        .where(Match.programme_id == programme.id, Match.status.in_(COUNTED))
        .order_by(Match.id)
    ).all()
    people = {p.id: p for p in session.scalars(select(Participant))}
    settings = settings_of(programme)
    states = []
    for m in matches:
        checkins = session.scalars(select(CheckIn).where(CheckIn.match_id == m.id)).all()
        answers = session.scalars(
            select(SurveyResponse).where(SurveyResponse.match_id == m.id)
        ).all()
        pulse_sats = [a.satisfaction for a in answers if a.survey in PULSES and a.satisfaction]
        state = PairState(
            match_id=m.id, status=m.status,
            mentor_member_id=people[m.mentor_participant_id].member_id,
            mentee_member_id=people[m.mentee_participant_id].member_id,
            mentee_enrolled_at=people[m.mentee_participant_id].enrolled_at,
            accepted_at=m.accepted_at, started_at=m.started_at, ended_at=m.ended_at,
            end_reason=m.end_reason, n_checkins=len(checkins),
            minutes=sum(c.duration_minutes for c in checkins),
            last_met_on=max((c.met_on for c in checkins), default=None),
            min_satisfaction=min(pulse_sats, default=None),
            responses={s: sum(a.survey == s for a in answers) for s in (*PULSES, "end")},
        )  # fmt: skip
        judge(state, programme, settings, today)
        assert tenant_id == m.tenant_id
        states.append(state)
    return states


def python_figures(session: Session, programme: Programme, today: date) -> dict:
    states = python_states(session, programme, today)
    settings = settings_of(programme)
    counted = [s for s in states if s.status != "rematched"]
    waits = [
        (s.accepted_at - s.mentee_enrolled_at).total_seconds() / 86400
        for s in counted
        if s.accepted_at
    ]
    running = [s for s in states if s.running]
    pair_days, expected, answered = 0, 0, 0
    for s in states:
        if s.start is None:
            continue
        end = s.ended_at.date() if s.ended_at else today
        pair_days += max((end - s.start).days, 1)
        for survey in settings.pulse_surveys:
            opens = pulse_opens_on(programme, s, survey)  # type: ignore[arg-type]
            if opens is not None and opens <= min(end, today):
                expected += 2
                answered += min(s.responses[survey], 2)
        if s.status == "closed":
            expected += 2
            answered += min(s.responses["end"], 2)
    closed = [s for s in states if s.status == "closed"]
    n_early = sum(end_outcome(end_reason=s.end_reason) == "early" for s in closed)

    members = session.scalars(
        select(Participant.id).where(Participant.programme_id == programme.id)
    ).all()
    answers = session.scalars(
        select(SurveyResponse).where(SurveyResponse.participant_id.in_(members))
    ).all()
    baseline = {a.participant_id: a.confidence for a in answers if a.survey == "enrolment"}
    sats = [a.satisfaction for a in answers if a.survey in PULSES and a.satisfaction]
    by_stage: dict[str, list[int]] = {}
    changes: dict[str, list[int]] = {}
    for a in answers:
        if a.confidence is not None:
            by_stage.setdefault(a.survey, []).append(a.confidence)
            if a.survey != "enrolment" and baseline.get(a.participant_id) is not None:
                changes.setdefault(a.survey, []).append(a.confidence - baseline[a.participant_id])
    stage = next((s for s in ("end", "close", "midpoint", "day30") if s in changes), None)
    match_ids = session.scalars(select(Match.id).where(Match.programme_id == programme.id)).all()
    months: dict[int, int] = {}
    for c in session.scalars(select(CheckIn).where(CheckIn.match_id.in_(match_ids))):
        index = month_of_programme(programme, c.met_on)
        months[index] = months.get(index, 0) + 1
    quiet = sorted((s for s in running if s.quiet), key=lambda s: s.last_met_on or date.min)
    return {
        "n_matched": len({s.mentee_member_id for s in counted}),
        "days_to_match": round(statistics.median(waits), 1) if waits else None,
        "n_pairs": len(states),
        "n_running": len(running),
        "n_active": sum(s.active for s in running),
        "n_quiet": len(quiet),
        "n_at_risk": sum(s.at_risk for s in running),
        "meetings_per_pair_month": (
            round(sum(s.n_checkins for s in states) / (pair_days / DAYS_PER_MONTH), 2)
            if pair_days
            else None
        ),
        "response_rate": answered / expected if expected else None,
        "n_closed": len(closed),
        "n_early": n_early,
        "satisfaction": round(statistics.mean(sats), 2) if sats else None,
        "confidence_by_stage": {k: round(statistics.mean(v), 2) for k, v in by_stage.items()},
        "confidence_change": round(statistics.mean(changes[stage]), 2) if stage else None,
        "confidence_change_stage": stage,
        "checkins_by_month": [months.get(i, 0) for i in range(max(months, default=-1) + 1)],
        "quiet": [s.match_id for s in quiet][:WATCH_LIMIT],
        "at_risk": [s.match_id for s in running if s.at_risk][:WATCH_LIMIT],
        "reasons": {s.match_id: s.risks for s in running if s.at_risk},
        "states": states,
    }


@pytest.mark.parametrize(
    ("seed", "ends_on", "pulses"),
    [(1, True, None), (2, False, None), (3, True, ["day30", "close"]), (4, False, [])],
)
def test_the_database_counts_what_python_counts(
    session: Session, seed: int, ends_on: bool, pulses: list[str] | None
) -> None:
    programme = seed_mix(session, seed=seed, ends_on=ends_on, pulses=pulses)
    session.commit()
    for today in (TODAY - timedelta(days=60), TODAY, TODAY + timedelta(days=45)):
        expected = python_figures(session, programme, today)
        board = programme_dashboard(session, programme.tenant_id, programme.id, today)
        got = board.current
        for name, value in expected.items():
            if name in ("quiet", "at_risk", "reasons", "states"):
                continue
            assert getattr(got, name) == pytest.approx(value), (name, today)
        assert (board.n_quiet, board.n_at_risk) == (expected["n_quiet"], expected["n_at_risk"])
        assert [r.match_id for r in board.quiet] == expected["quiet"]
        assert [r.match_id for r in board.at_risk] == expected["at_risk"]
        assert {r.match_id: r.reasons for r in board.at_risk} == {
            i: expected["reasons"][i] for i in expected["at_risk"]
        }
        # And the SQL behind alerts and reminders reads each pair as Python does.
        assert pair_states(session, programme.tenant_id, programme, today) == expected["states"]
