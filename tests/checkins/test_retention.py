"""Retention: free text of long-closed pairs and old audit rows go; counts and recent pairs stay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from click.testing import Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkins import apply_retention, end_outcome
from checkins.retention import months_before
from records import (
    Agreement,
    Alert,
    AuditEvent,
    CheckIn,
    Database,
    Match,
    SurveyResponse,
    Tenant,
    record_event,
)
from tests.support.checkins_factory import NOW, Pair, make_world

OLD_TEXT = "the-old-pairs-words"


def close(session: Session, pair: Pair, ended_at: datetime, text: str) -> None:
    tenant_id, match = pair.match.tenant_id, pair.match
    match.status, match.ended_at, match.end_reason = "closed", ended_at, f"early: {text}"
    session.add(CheckIn(tenant_id=tenant_id, match_id=match.id, met_on=ended_at.date(),
                        logged_by_participant_id=pair.mentee_participant.id,
                        duration_minutes=40, summary=text, private_notes=text))  # fmt: skip
    session.add(
        SurveyResponse(
            tenant_id=tenant_id,
            participant_id=pair.mentee_participant.id,
            match_id=match.id,
            survey="end",
            satisfaction=3,
            comment=text,
        )
    )
    session.add(Agreement(tenant_id=tenant_id, match_id=match.id, boundaries=text,
                          goals=[{"goal": text, "by": "2024-01-01"}]))  # fmt: skip
    session.add(
        Alert(
            tenant_id=tenant_id,
            programme_id=match.programme_id,
            match_id=match.id,
            kind="member_flag",
            detail={"reason": text, "side": "mentee"},
        )
    )
    session.flush()


def seed(session: Session) -> tuple[Tenant, Pair, Pair]:
    world = make_world(session, n_pairs=2)
    world.tenant.settings = {"retain_closed_months": 12, "audit_retain_months": 6}
    old, recent = world.pairs
    close(session, old, NOW - timedelta(days=400), OLD_TEXT)
    close(session, recent, NOW - timedelta(days=200), "recent-words")
    for days, action in ((190, "old.event"), (170, "recent.event")):
        event = record_event(session, world.tenant.id, action)
        event.created_at = NOW - timedelta(days=days)
    # Another tenant with the defaults (24 months): its 400-day-old pair keeps its words.
    other = make_world(session, slug="globex")
    close(session, other.pair, NOW - timedelta(days=400), "globex-words")
    session.flush()
    return world.tenant, old, recent


def texts(session: Session) -> str:
    rows = [
        *session.scalars(select(CheckIn.summary)), *session.scalars(select(CheckIn.private_notes)),
        *session.scalars(select(SurveyResponse.comment)),
        *session.scalars(select(Agreement.boundaries)),
        *(str(g) for g in session.scalars(select(Agreement.goals))),
        *(str(d) for d in session.scalars(select(Alert.detail))),
        *(r or "" for r in session.scalars(select(Match.end_reason))),
    ]  # fmt: skip
    return " ".join(rows)


def test_retention_empties_old_pairs_text_and_deletes_old_audit_rows(session: Session) -> None:
    tenant, old, _ = seed(session)
    session.commit()
    assert OLD_TEXT in texts(session)
    counts = apply_retention(session, now=NOW)
    session.commit()
    assert counts == {"checkins": 1, "survey_responses": 1, "agreements": 1, "matches": 1,
                      "alerts": 1, "audit_events": 1}  # fmt: skip
    left = texts(session)
    assert OLD_TEXT not in left and "recent-words" in left and "globex-words" in left
    # The pair's counts and outcome stay for the figures.
    session.refresh(old.match)
    assert end_outcome(old.match) == "early"
    assert session.scalars(select(SurveyResponse.satisfaction).where(
        SurveyResponse.match_id == old.match.id)).one() == 3  # fmt: skip
    assert len(session.scalars(select(CheckIn.id).where(CheckIn.match_id == old.match.id)).all())
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.tenant_id == tenant.id))
    assert sorted(actions) == ["recent.event"]
    # Idempotent: the next night finds nothing.
    assert apply_retention(session, now=NOW) == {}


def test_months_before_clamps_to_the_end_of_a_month() -> None:
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 24) == datetime(2024, 1, 15, tzinfo=UTC)


def test_retention_command_dry_run_then_apply(
    cli: Callable[[list[str]], Result], database: Database
) -> None:
    with database.transaction() as session:
        seed(session)
        # The command uses the real clock: move the fixture's dates to now.
        shift = datetime.now(UTC) - NOW
        for match in session.scalars(select(Match).where(Match.ended_at.is_not(None))):
            match.ended_at += shift
        for event in session.scalars(select(AuditEvent)):
            event.created_at += shift
    dry = cli(["retention", "apply", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "checkins                  1" in dry.output
    assert dry.output.splitlines()[-1] == "dry run: 6 row(s) would change; nothing was changed"
    with database.transaction() as session:
        assert OLD_TEXT in texts(session)
    assert cli(["retention", "apply", "--tenant", "nope"]).output == (
        "tandem: no tenant 'nope' (see `tandem tenant list`)\n"
    )
    done = cli(["retention", "apply", "--tenant", "acme"])
    assert (
        done.exit_code == 0
        and done.output.splitlines()[-1] == "retention applied: 6 row(s) changed"
    )
    with database.transaction() as session:
        assert OLD_TEXT not in texts(session)
