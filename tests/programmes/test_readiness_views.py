"""Readiness and guides through the Flask test client: set-up section, guide pages with
hostile Markdown, "mark as read", the member's to-do and the match-day "not ready" list."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import records
from programmes import render_markdown
from records import AuditEvent, Course, GuideRead, Participant, Programme, Tenant

from . import test_views
from .test_views import sign_in

seeded = test_views.seeded  # the same seeded demo tenant, programme and members

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    "[click me](javascript:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="https://example.org" onclick="alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "<svg onload=alert(1)>",
    "![x](https://evil.example/x.png)",
    '<p style="background:url(javascript:alert(1))">y</p>',
]


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


def assert_inert(html: str) -> None:
    """No script-capable element, no event handler, no style, no link but http(s)/mailto."""
    found = _Elements()
    found.feed(html)
    assert not found.tags & {"script", "iframe", "img", "svg", "style", "object", "embed"}, html
    for name, value in found.attributes:
        assert not name.startswith("on") and name != "style", (name, html)
        if name in ("href", "src"):
            assert value.startswith(("https:", "http:", "mailto:")), (value, html)


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_cannot_inject_script(text: str) -> None:
    html = str(render_markdown(f"# Title\n\nSome *words*.\n\n{text}\n"))
    assert_inert(html)
    assert "<h1>Title</h1>" in html and "<em>words</em>" in html


def test_markdown_keeps_what_a_guide_needs() -> None:
    html = str(render_markdown("## Goals\n\n- one\n- two\n\n[Our site](https://example.org)"))
    assert "<h2>Goals</h2>" in html and "<li>one</li>" in html
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">Our site</a>' in html


def _course(app: Flask, tenant_id: int, title: str) -> int:
    with app.app_context():
        session = records.get_session()
        course = Course(tenant_id=tenant_id, source="lti", external_id=title, title=title)
        session.add(course)
        session.commit()
        return course.id


def test_coordinator_sets_rules_and_a_member_sees_them(
    app: Flask, client: FlaskClient, seeded: dict
) -> None:
    programme = seeded["programme"]
    course_id = _course(app, seeded["tenant"], "Mentor essentials")
    csrf = sign_in(client, seeded["tenant"], seeded["coordinator"], role="coordinator")
    page = client.get(f"/programmes/{programme}/settings").get_data(as_text=True)
    assert "Ready to be matched" in page and "Mentor essentials" in page
    saved = client.post(
        f"/programmes/{programme}/readiness",
        data={"csrf_token": csrf, "mentor_course": str(course_id), "mentee_guide": "on"},
    )
    assert saved.status_code == 303
    assert "Readiness rules saved" in client.get(saved.headers["Location"]).get_data(as_text=True)
    board = client.get(f"/programmes/{programme}/match").get_data(as_text=True)
    assert 'id="not-ready"' in board
    assert "not ready: complete Mentor essentials" in board
    assert "not ready: read the mentee guide" in board

    csrf = sign_in(client, seeded["tenant"], seeded["mentee_member"])
    mine = client.get(f"/programmes/{programme}").get_data(as_text=True)
    assert "Before you can be matched" in mine
    assert f'href="/programmes/{programme}/guides/mentee">Read the mentee guide</a>' in mine
    guide = client.get(f"/programmes/{programme}/guides/mentee").get_data(as_text=True)
    assert "The mentee guide" in guide and "Boundaries and confidentiality" in guide
    read = client.post(f"/programmes/{programme}/guides/mentee/read", data={"csrf_token": csrf})
    assert read.status_code == 303
    after = client.get(read.headers["Location"]).get_data(as_text=True)
    assert "Marked as read" in after and "Before you can be matched" not in after
    assert "You marked this guide as read" in client.get(
        f"/programmes/{programme}/guides/mentee"
    ).get_data(as_text=True)


def test_bad_readiness_input_is_refused_and_writes_nothing(
    app: Flask, client: FlaskClient, seeded: dict
) -> None:
    programme = seeded["programme"]
    with app.app_context():
        session = records.get_session()
        other = Tenant(slug="other", name="Other")
        session.add(other)
        session.commit()
        other_id = other.id
    foreign = _course(app, other_id, "Their course")
    url = f"/programmes/{programme}/readiness"

    def audit_rows() -> int:
        with app.app_context():
            return records.get_session().scalar(select(func.count()).select_from(AuditEvent))

    before = audit_rows()
    csrf = sign_in(client, seeded["tenant"], seeded["coordinator"], role="coordinator")
    garbage = client.post(url, data={"csrf_token": csrf, "mentor_course": "1 OR 1=1"})
    assert garbage.status_code == 400 and "not a course id" in garbage.get_data(as_text=True)
    refused = client.post(
        url,
        data={"csrf_token": csrf, "mentor_course": str(foreign)},
        headers={"Referer": f"/programmes/{programme}/settings"},
    )
    assert refused.status_code == 303
    assert "Pick one of the courses listed" in client.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    assert client.post(url, data={"mentor_course": ""}).status_code == 400  # no CSRF token
    assert (
        client.post(
            f"/programmes/{programme}/guides/tutor/read", data={"csrf_token": csrf}
        ).status_code
        == 404
    )
    with app.app_context():
        settings = records.get_session().get(Programme, programme).settings
        assert "readiness" not in settings
    assert audit_rows() == before

    member_csrf = sign_in(client, seeded["tenant"], seeded["mentee_member"])
    assert client.post(url, data={"csrf_token": member_csrf}).status_code == 403


def test_a_coordinators_hostile_guide_is_shown_inert(
    app: Flask, client: FlaskClient, seeded: dict
) -> None:
    programme = seeded["programme"]
    csrf = sign_in(client, seeded["tenant"], seeded["coordinator"], role="coordinator")
    text = "## Our notes\n\n" + "\n\n".join(HOSTILE)
    saved = client.post(
        f"/programmes/{programme}/guides/mentor/text",
        data={"csrf_token": csrf, "mode": "extend", "markdown": text},
    )
    assert saved.status_code == 303
    sign_in(client, seeded["tenant"], seeded["mentee_member"])
    page = client.get(f"/programmes/{programme}/guides/mentor").get_data(as_text=True)
    body = page.split('id="guide">', 1)[1].split("</section>", 1)[0]
    assert "first meeting" in body.lower() and "Our notes" in body  # shipped, then extended
    assert_inert(body)
    assert "&lt;script&gt;" in body  # shown as text, not run

    csrf = sign_in(client, seeded["tenant"], seeded["coordinator"], role="coordinator")
    client.post(
        f"/programmes/{programme}/guides/mentor/text",
        data={"csrf_token": csrf, "mode": "replace", "markdown": "# Only ours"},
    )
    page = client.get(f"/programmes/{programme}/guides/mentor").get_data(as_text=True)
    assert "Only ours" in page and "first meeting" not in page.lower()
    empty = client.post(
        f"/programmes/{programme}/guides/mentor/text",
        data={"csrf_token": csrf, "mode": "replace", "markdown": "  "},
        headers={"Referer": f"/programmes/{programme}/settings"},
    )
    assert "Write the text" in client.get(empty.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert records.get_session().scalar(select(func.count()).select_from(GuideRead)) == 0
        mentees = records.get_session().scalar(
            select(func.count()).select_from(Participant).where(Participant.role == "mentee")
        )
        assert mentees
