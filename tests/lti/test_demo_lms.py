"""The Demo LMS: a real built-in platform, in demo mode only."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from flask import Flask

import records
from lti_tool.app import create_app
from programmes import seed_demo


@pytest.fixture
def demo_app(app_config: dict) -> Flask:  # type: ignore[misc]
    application = create_app({**app_config, "TANDEM_DEMO": True})
    with application.app_context(), records.get_database(application).transaction() as session:
        seed_demo(session)
    yield application
    application.extensions["tandem.database"].dispose()


def _launch_as(client, label: str):  # type: ignore[no-untyped-def]
    page = client.get("/demo-lms").get_data(as_text=True)
    rows = re.findall(r'href="(/lti/login\?[^"]+)">Launch Tandem as (\w+)', page)
    url = next(unescape(href) for href, name in rows if name == label)
    login = client.get(url)
    assert login.status_code == 302
    authorize = client.get(login.headers["Location"])
    assert authorize.status_code == 200
    text = authorize.get_data(as_text=True)
    fields = dict(re.findall(r'name="(id_token|state)" value="([^"]+)"', text))
    return client.post("/lti/launch", data=fields)


def test_home_links_the_demo_lms(demo_app) -> None:
    client = demo_app.test_client()
    assert "/demo-lms" in client.get("/").get_data(as_text=True)


def test_demo_member_launch_lands_on_their_page(demo_app) -> None:
    client = demo_app.test_client()
    response = _launch_as(client, "Amara")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert urlsplit(response.headers["Location"]).path == "/me"
    text = client.get("/me").get_data(as_text=True)
    assert "Amara Okafor" in text and "Demo mentoring course" in text


def test_demo_coordinator_launch_lands_on_the_coordinator_page(demo_app) -> None:
    client = demo_app.test_client()
    response = _launch_as(client, "Casey")
    assert urlsplit(response.headers["Location"]).path == "/coordinator"
    assert "Casey Coordinator" in client.get("/coordinator").get_data(as_text=True)


def test_demo_launch_links_the_seeded_member(demo_app) -> None:
    from sqlalchemy import func, select

    from records import Member

    with demo_app.app_context(), records.get_database(demo_app).transaction() as session:
        before = session.scalar(select(func.count()).select_from(Member))
    client = demo_app.test_client()
    _launch_as(client, "Amara")
    _launch_as(client, "Casey")
    with demo_app.app_context(), records.get_database(demo_app).transaction() as session:
        # only the coordinator is new
        assert session.scalar(select(func.count()).select_from(Member)) == before + 1


def test_no_demo_lms_outside_demo_mode(client) -> None:
    assert client.get("/demo-lms").status_code == 404
    assert client.get("/demo-lms/authorize?client_id=tandem-demo").status_code == 404
    assert client.get("/demo-lms/jwks").status_code == 404
