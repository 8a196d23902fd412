"""The pages: private notes never reach the coordinator, other tenants get 404."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from checkins import CheckinDraft, log_checkin
from records import utcnow
from tests.support.checkins_factory import make_world
from tests.support.checkins_web import session_cookie

NOTE = "PRIVATE-NOTE-for-the-pair"


def sign_in(client, app: Flask, tenant_id: int, member_id: int, **kw) -> None:
    name, value = session_cookie(app, tenant_id, member_id, **kw)
    client.set_cookie(name, value)


def test_pages_and_privacy(app: Flask, session: Session) -> None:
    world = make_world(session, n_pairs=2)
    other = make_world(session, slug="globex")
    pair = world.pair
    log_checkin(session, world.tenant.id, pair.match.id, pair.mentee.id,
                CheckinDraft(met_on=utcnow().date(), duration_minutes=50, private_notes=NOTE,
                             next_meeting_at=utcnow() + timedelta(days=20)))  # fmt: skip
    session.commit()
    client = app.test_client()
    sign_in(client, app, world.tenant.id, pair.mentor.id)
    page = client.get("/checkins/")
    assert page.status_code == 200 and NOTE in page.text and "This month:" in page.text
    ics = client.get(f"/checkins/matches/{pair.match.id}/checkins/1/invite.ics")
    assert ics.status_code == 200 and b"BEGIN:VEVENT" in ics.data
    assert client.get("/checkins/certificate").text.count("logged meeting") == 1

    sign_in(client, app, world.tenant.id, world.pairs[1].mentee.id)
    assert NOTE not in client.get("/checkins/").text
    assert client.get(f"/checkins/matches/{pair.match.id}/learning").status_code == 403

    sign_in(client, app, world.tenant.id, world.coordinator.id, coordinator=True)
    board = client.get(f"/dashboard/{world.programme.id}")
    assert board.status_code == 200 and "<svg" in board.text and NOTE not in board.text
    export = client.get(f"/dashboard/{world.programme.id}/evaluation.csv?named=1")
    assert export.status_code == 200 and NOTE not in export.text

    sign_in(client, app, other.tenant.id, other.coordinator.id, coordinator=True)
    assert client.get(f"/dashboard/{world.programme.id}").status_code == 404

    sign_in(client, app, world.tenant.id, pair.mentee.id)
    assert client.get(f"/dashboard/{world.programme.id}").status_code == 403
    bad = client.post(f"/checkins/matches/{pair.match.id}/checkins",
                      data={"csrf_token": "test-csrf", "met_on": "2999-01-01",
                            "duration_minutes": "30"})  # fmt: skip
    assert bad.status_code == 303
    assert "is in the future" in client.get("/checkins/").text
