"""My data, the privacy page, erasure requests on the dashboard and the Erase button."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checkins import CheckinDraft, log_checkin
from platforms import COORDINATOR
from records import AuditEvent, ErasureRequest, Member
from tests.support.checkins_factory import TODAY, make_world
from tests.support.checkins_web import session_cookie, start_recorded_session

NOTE = "PRIVATE-NOTE-of-the-pair"
OTHER_NOTE = "PRIVATE-NOTE-of-another-pair"


def sign_in(app: Flask, tenant_id: int, member_id: int, **kw) -> FlaskClient:
    """A new client (no cookies left from another identity) signed in as the member."""
    client = app.test_client()
    client.set_cookie(*session_cookie(app, tenant_id, member_id, **kw))
    return client


def sign_in_admin(app: Flask, tenant_id: int, member_id: int) -> FlaskClient:
    """An institution administrator: a coordinator of every programme of the tenant."""
    client = app.test_client()
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    value = serializer.dumps({
        "sid": start_recorded_session(app, tenant_id, member_id),
        "tenant_id": tenant_id, "member_id": member_id, "role": COORDINATOR, "course_id": None,
        "programme_id": None, "launch_id": None, "origins": [], "csrf": "test-csrf",
        "institution_admin": True,
    })  # fmt: skip
    client.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), value)
    return client


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_my_data_shows_downloads_and_who_sees_each_part(app: Flask, session: Session) -> None:
    world = make_world(session, n_pairs=2)
    world.tenant.settings = {"association_name": "Acme Mentors",
                             "privacy_contact": "privacy@acme.example",
                             "retain_closed_months": 18}  # fmt: skip
    pair, other = world.pairs
    world.pair.mentee_participant.answers = {"goals": "lead a team"}
    for p, note in ((pair, NOTE), (other, OTHER_NOTE)):
        log_checkin(session, world.tenant.id, p.match.id, p.mentee.id, CheckinDraft(
            met_on=TODAY, duration_minutes=30, summary="we met", private_notes=note))  # fmt: skip
    session.commit()
    client = app.test_client()
    assert client.get("/my-data").status_code == 401
    assert client.get("/privacy").status_code == 401
    client = sign_in(app, world.tenant.id, pair.mentee.id)

    # Every member page links My data and Privacy.
    for path in ("/checkins/", "/checkins/certificate", f"/programmes/{world.programme.id}"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'id="my-data-link"' in page.text and 'id="privacy-link"' in page.text, path

    page = client.get("/my-data")
    assert page.status_code == 200
    text = page.text
    assert pair.mentee.email in text and "lead a team" in text and NOTE in text
    assert OTHER_NOTE not in text and other.mentee.email not in text
    assert "Who can see this: You and your partner only. Nobody else, ever." in text
    assert "Maya Mentor" in text  # the partner, by name

    as_json = client.get("/my-data.json")
    assert as_json.headers["Content-Disposition"] == "attachment; filename=my-tandem-data.json"
    data = json.loads(as_json.data)
    assert data["profile"]["email"] == pair.mentee.email
    assert data["private_notes"][0]["notes"] == NOTE
    assert data["programmes"][0]["answers"] == {"goals": "lead a team"}
    assert data["pairs"][0]["partner"] == "Maya Mentor" and data["pairs"][0]["you_are"] == "mentee"
    as_html = client.get("/my-data.html")
    assert as_html.headers["Content-Disposition"] == "attachment; filename=my-tandem-data.html"
    assert NOTE in as_html.text and "<form" not in as_html.text

    privacy = client.get("/privacy")
    assert "Acme Mentors" in privacy.text and "mailto:privacy@acme.example" in privacy.text
    assert "18 months after the pair ends" in privacy.text and "kept 24 months" in privacy.text


def test_privacy_page_defaults_to_the_tenant_name(app: Flask, session: Session) -> None:
    world = make_world(session)
    session.commit()
    client = app.test_client()
    client = sign_in(app, world.tenant.id, world.pair.mentor.id)
    page = client.get("/privacy").text
    assert "Acme Institute" in page and "Ask your coordinator about your data." in page
    assert "24 months after the pair ends" in page


def test_an_erasure_request_reaches_the_dashboard_and_is_carried_out(
    app: Flask, session: Session
) -> None:
    world = make_world(session, n_pairs=2)
    elsewhere = make_world(session, slug="globex")
    session.commit()
    pair, tenant_id = world.pair, world.tenant.id
    client = app.test_client()
    client = sign_in(app, tenant_id, pair.mentee.id)
    # No CSRF token: refused, nothing written.
    refused = client.post("/my-data/erasure-request", data={})
    assert refused.status_code == 400 and count(session, ErasureRequest) == 0
    for _ in range(2):  # asking twice is one request
        asked = client.post("/my-data/erasure-request", data={"csrf_token": "test-csrf"})
        assert asked.status_code == 303
    assert count(session, ErasureRequest) == 1
    assert "You asked on" in client.get("/my-data").text
    assert "request-erasure" not in client.get("/my-data").text
    # A member cannot note or erase.
    request_id = session.scalars(select(ErasureRequest.id)).one()
    base = f"/dashboard/{world.programme.id}/erasure-requests/{request_id}"
    assert client.post(f"{base}/note", data={"csrf_token": "test-csrf", "note": "x"}
                       ).status_code == 403  # fmt: skip

    client = sign_in(app, tenant_id, world.coordinator.id, coordinator=True)
    board = client.get(f"/dashboard/{world.programme.id}").text
    assert 'id="erasures"' in board and pair.mentee.name in board
    assert "dashboard.erase" not in board and f"{base}/erase" not in board  # no Erase button
    assert client.post(f"{base}/note", data={"csrf_token": "test-csrf", "note": " "}
                       ).status_code == 400  # fmt: skip
    noted = client.post(f"{base}/note", data={"csrf_token": "test-csrf",
                                              "note": "pair ends next week anyway"})  # fmt: skip
    assert noted.status_code == 303
    assert "Note: pair ends next week anyway" in client.get(f"/dashboard/{world.programme.id}").text
    # A coordinator (not an institution administrator) cannot erase; nothing changes.
    denied = client.post(f"{base}/erase", data={"csrf_token": "test-csrf"})
    assert denied.status_code == 403
    session.expire_all()
    assert session.get(Member, pair.mentee.id).erased_at is None

    # Another tenant's administrator does not even find the request.
    client = sign_in_admin(app, elsewhere.tenant.id, elsewhere.coordinator.id)
    assert client.post(f"{base}/erase", data={"csrf_token": "test-csrf"}).status_code == 404

    client = sign_in_admin(app, tenant_id, world.coordinator.id)
    board = client.get(f"/dashboard/{world.programme.id}").text
    assert f"{base}/erase" in board
    assert client.post(f"{base}/erase", data={}).status_code == 400  # CSRF
    done = client.post(f"{base}/erase", data={"csrf_token": "test-csrf"})
    assert done.status_code == 303
    session.expire_all()
    erased = session.get(Member, pair.mentee.id)
    assert erased.erased_at is not None and erased.email is None
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "member.erased")).one()
    assert event.actor_member_id == world.coordinator.id and event.subject_id == str(erased.id)
    board = client.get(f"/dashboard/{world.programme.id}").text
    assert "Erasure requests (0)" in board
    # The partner's coordinator is told: the ended pair is an open alert.
    assert "member erased" in board
    # Carrying it out again: the request is done (409), nothing more happens.
    again = client.post(f"{base}/erase", data={"csrf_token": "test-csrf"})
    assert again.status_code == 409 and "carried out already" in again.text, again.text
