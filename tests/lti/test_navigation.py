"""The navigation of signed-in pages, the two home pages and the frame-resize script,
through the web layer (the browser journeys are in tests/browser/test_home_journey.py)."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records import Alert, Course, HomeVisit, Programme, utcnow
from tests.support.checkins_factory import World, make_world
from tests.support.checkins_web import session_cookie


def _signed_in(app: Flask, world: World, member_id: int, **extra: object) -> FlaskClient:
    client = app.test_client()
    name, value = session_cookie(app, world.tenant.id, member_id, **extra)  # type: ignore[arg-type]
    client.set_cookie(name, value)
    return client


def _nav(page: str) -> str:
    found = re.search(r'<nav class="site-nav" aria-label="[^"]+">(.*?)</nav>', page, re.S)
    assert found, "no navigation on the page"
    return found.group(1)


def _current(page: str) -> list[tuple[str, str]]:
    """(link id, aria-current value) of each marked link of the navigation."""
    return re.findall(r'<a id="([\w-]+)" href="[^"]*" aria-current="(\w+)"', _nav(page))


def _courses(session: Session, world: World) -> tuple[Course, Course]:
    ours = Course(tenant_id=world.tenant.id, source="lti", external_id="c-1", title="Mentoring 101")
    theirs = Course(tenant_id=world.tenant.id, source="lti", external_id="c-2", title="Other 201")
    session.add_all([ours, theirs])
    session.flush()
    return ours, theirs


def test_a_members_navigation_marks_the_current_place(app: Flask, session: Session) -> None:
    world = make_world(session, n_pairs=1)
    ours, _ = _courses(session, world)
    session.commit()
    client = _signed_in(app, world, world.pair.mentee.id, course_id=ours.id)
    home = client.get("/me").text
    links = re.findall(r'<li><a id="([\w-]+)" href="([^"]+)"', _nav(home))
    assert links == [("nav-home", "/me"), ("nav-programmes", "/programmes"),
                     ("nav-mentoring", "/checkins/"), ("my-data-link", "/my-data"),
                     ("privacy-link", "/privacy")]  # fmt: skip
    assert _current(home) == [("nav-home", "page")]
    assert '<span class="course" id="nav-course">Mentoring 101</span>' in home
    for path, marked in (
        ("/programmes", [("nav-programmes", "page")]),
        # A programme's own page sits under "Programmes": current, but not that page.
        (f"/programmes/{world.programme.id}", [("nav-programmes", "true")]),
        ("/checkins/", [("nav-mentoring", "page")]),
        ("/checkins/certificate", [("nav-mentoring", "true")]),
        ("/my-data", [("my-data-link", "page")]),
        ("/privacy", [("privacy-link", "page")]),
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert _current(page.text) == marked, path
        assert "nav-dashboard" not in page.text, path


def test_a_coordinator_gets_a_dashboard_per_programme_of_their_course_only(
    app: Flask, session: Session
) -> None:
    world = make_world(session, n_pairs=1)
    ours, theirs = _courses(session, world)
    own = Programme(tenant_id=world.tenant.id, name="Course circle", course_id=ours.id)
    other = Programme(tenant_id=world.tenant.id, name="Other circle", course_id=theirs.id)
    closed = Programme(tenant_id=world.tenant.id, name="Old circle", status="closed")
    session.add_all([own, other, closed])
    session.commit()
    client = _signed_in(app, world, world.coordinator.id, coordinator=True, course_id=ours.id)
    home = client.get("/coordinator").text
    dashboards = re.findall(r'id="nav-dashboard-(\d+)" href="/dashboard/(\d+)"', _nav(home))
    assert sorted(int(a) for a, _ in dashboards) == sorted([world.programme.id, own.id])
    # Two of them: folded into one "Dashboards" disclosure, each link by its name.
    assert "<summary>Dashboards</summary>" in _nav(home)
    assert f">{own.name}</a>" in _nav(home) and "Other circle" not in _nav(home)
    assert _current(home) == [("nav-home", "page")]
    board = client.get(f"/dashboard/{own.id}").text
    assert _current(board) == [(f"nav-dashboard-{own.id}", "page")]
    assert '<summary class="current">Dashboards</summary>' in _nav(board)
    # The other course's programme is refused by the same rule the link list uses.
    assert client.get(f"/dashboard/{other.id}").status_code == 404


def test_nobody_signed_in_gets_no_navigation_and_no_script(app: Flask) -> None:
    page = app.test_client().get("/")
    assert 'class="site-nav"' not in page.text and "frame-resize.js" not in page.text
    assert "script-src 'none'" in page.headers["Content-Security-Policy"]


def test_signed_in_pages_load_the_frame_resize_script_with_their_nonce(
    app: Flask, session: Session
) -> None:
    world = make_world(session, n_pairs=1)
    session.commit()
    client = _signed_in(app, world, world.pair.mentor.id)
    for path in ("/me", "/programmes", "/checkins/", "/my-data"):
        page = client.get(path)
        nonce = re.search(r"'nonce-([\w-]+)'", page.headers["Content-Security-Policy"])
        assert nonce, path
        tag = f'<script src="/static/frame-resize.js" nonce="{nonce.group(1)}" defer></script>'
        assert tag in page.text, path
    script = client.get("/static/frame-resize.js")
    assert script.status_code == 200 and "javascript" in script.content_type
    assert '"lti.frameResize"' in script.text and "window.parent.postMessage" in script.text


def test_the_member_home_says_what_is_next(app: Flask, session: Session) -> None:
    world = make_world(session, n_pairs=1)
    pair = world.pair
    session.commit()
    page = _signed_in(app, world, pair.mentee.id).get("/me").text
    assert "Welcome, Milo Mentee" in page
    assert re.search(r'<li class="step step-agreement" id="step-1"', page)
    assert f'href="/checkins/#match-{pair.match.id}"' in page
    assert "Write and sign your mentoring agreement with Maya Mentor" in page


def test_the_coordinator_home_lists_what_needs_attention_and_notes_the_visit(
    app: Flask, session: Session
) -> None:
    world = make_world(session, n_pairs=2, starts_on=utcnow().date() - timedelta(days=70))
    # One pair has not met in the 60 days since it began, nor answered its day-30 survey.
    world.pairs[0].match.accepted_at = utcnow() - timedelta(days=60)
    world.pairs[1].match.accepted_at = utcnow() - timedelta(days=5)
    session.add(Alert(tenant_id=world.tenant.id, programme_id=world.programme.id,
                      match_id=world.pair.match.id, kind="member_flag"))  # fmt: skip
    session.commit()
    client = _signed_in(app, world, world.coordinator.id, coordinator=True)
    pid = world.programme.id
    page = client.get("/coordinator").text
    assert f'<li id="new-{pid}"><a href="/programmes/{pid}/match">4 new enrolments</a>' in page
    assert f'<li id="alerts-{pid}"><a href="/dashboard/{pid}#watch">1 open alert</a>' in page
    assert f'<li id="quiet-{pid}"><a href="/dashboard/{pid}#watch">1 quiet pair</a>' in page
    assert f'<li id="at-risk-{pid}"><a href="/dashboard/{pid}#watch">1 pair at risk</a>' in page
    session.expire_all()
    visit = session.scalars(select(HomeVisit)).one()
    assert (visit.tenant_id, visit.member_id) == (world.tenant.id, world.coordinator.id)


def test_a_member_is_refused_the_coordinator_home_and_nothing_is_written(
    app: Flask, session: Session
) -> None:
    world = make_world(session, n_pairs=1)
    session.commit()
    member = _signed_in(app, world, world.pair.mentor.id)
    assert member.get("/coordinator").status_code == 403
    assert app.test_client().get("/coordinator").status_code == 401
    assert app.test_client().get("/me").status_code == 401
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(HomeVisit)) == 0
