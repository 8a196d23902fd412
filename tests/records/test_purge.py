"""Issue 12, finding 10: expired values and old anonymous audit rows are purged, by
``records.purge_expired``, ``tandem purge`` and every ``tandem remind``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records import AuditEvent, ExpiringValue, Member, Tenant, purge_expired, utcnow

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _seed(session: Session, now: datetime) -> dict[str, int]:
    """Rows on both sides of each line; returns the ids of a few to check."""
    tenant = Tenant(slug="acme", name="Acme", issuer="https://acme.example", client_id="c")
    session.add(tenant)
    session.flush()
    member = Member(tenant_id=tenant.id, display_name="Ada")
    session.add(member)
    session.flush()
    for key, expires in [
        ("long-gone", now - timedelta(days=3)),
        ("just-late", now - timedelta(hours=2)),  # kept a day, to say "expired"
        ("live", now + timedelta(minutes=5)),
    ]:
        session.add(ExpiringValue(namespace="test", key=key, value={}, expires_at=expires))
    for action, actor, age in [
        ("lti.login_refused", None, timedelta(days=120)),  # anonymous and old: goes
        ("lti.login_refused", None, timedelta(days=30)),  # anonymous, recent: stays
        ("programme.status", member.id, timedelta(days=400)),  # a member's: stays
    ]:
        session.add(AuditEvent(tenant_id=tenant.id, actor_member_id=actor, action=action,
                               detail={}, created_at=now - age))  # fmt: skip
    session.commit()
    return {"member": member.id}


def _left(session: Session) -> tuple[list[str], list[int | None]]:
    session.expire_all()
    keys = sorted(session.scalars(select(ExpiringValue.key)))
    actors = sorted(
        session.scalars(select(AuditEvent.actor_member_id)), key=lambda x: (x is not None, x)
    )
    return keys, actors


def test_purge_counts_per_table_and_keeps_what_is_live(session: Session) -> None:
    ids = _seed(session, NOW)
    counts = purge_expired(session, now=NOW, audit_older_than=timedelta(days=90))
    assert counts == {"expiring_values": 1, "audit_events": 1}
    session.commit()
    assert _left(session) == (["just-late", "live"], [None, ids["member"]])
    # Again: nothing more to do.
    assert purge_expired(session, now=NOW, audit_older_than=timedelta(days=90)) == {
        "expiring_values": 0,
        "audit_events": 0,
    }


def test_purge_refuses_naive_times_and_empty_ages(session: Session) -> None:
    with pytest.raises(ValueError, match="naive"):
        purge_expired(session, now=datetime(2026, 1, 1), audit_older_than=timedelta(days=1))
    with pytest.raises(ValueError, match="positive"):
        purge_expired(session, now=NOW, audit_older_than=timedelta(0))


def test_tandem_purge_dry_run_then_purge(session: Session, cli: Callable) -> None:
    now = utcnow()
    ids = _seed(session, now)
    dry = cli(["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.strip() == (
        "would delete 1 expired value(s) and 1 old anonymous audit row(s); dry run, nothing deleted"
    )
    assert session.scalar(select(func.count()).select_from(ExpiringValue)) == 3
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 3
    short = cli(["purge", "--audit-days", "7"])
    assert short.exit_code == 0, short.output
    assert short.output.strip() == "deleted 1 expired value(s) and 2 old anonymous audit row(s)"
    assert _left(session) == (["just-late", "live"], [ids["member"]])


def test_tandem_purge_refuses_a_bad_age(cli: Callable) -> None:
    result = cli(["purge", "--audit-days", "0"])
    assert result.exit_code == 2 and "0 is not in the range x>=1" in result.output
