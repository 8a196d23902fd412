"""Every page passes axe-core's WCAG 2.2 AA checks, and fits an LMS iframe.

No page is listed by hand: a real headless Chromium starts as four people (anonymous, a
member launched from the Demo LMS, the coordinator, a member signed in through a portal's
email link), follows every same-origin link breadth-first (GET only, never a sign-out or
a launch as someone else), and submits the main forms (enrolment, check-in, survey,
sign-in link, credential check) to reach the pages behind them. On each page axe runs with
the WCAG 2.0/2.1/2.2 A and AA tags, then the page is narrowed to an LMS iframe's width and
must not scroll sideways. Pages other branches add are covered as soon as a link leads
there. Screenshots of each page (narrow) go to ``tests/artifacts/axe/`` (SQLite run).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, Response, request
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

import portals
import records
from lti_tool.app import create_app
from lti_tool.cli.core import seed_full_demo
from portals import PortalSettings
from records import Credential, Match, Member, Participant, SurveyResponse
from tests.conftest import TEST_ENCRYPTION_KEY, TEST_SECRET_KEY
from tests.support.axe import (
    axe_violations,
    describe_violations,
    horizontal_overflow,
    unmarked_focus,
)
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, chromium_page, live_server
from tests.support.crawl import Crawl, template_of
from tests.support.jobs import run_jobs
from tests.support.smtp import Inbox, smtp_server

from .test_matchday_journey import _fill_questionnaire, _launch_as, _set_up_programme

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1200, "height": 900}
# Moodle's and Canvas's tool frame in a course page, on a laptop: about 600 px wide.
LMS_FRAME = {"width": 600, "height": 800}
# Pages checked per person at most: enough for every page there is today with room for
# the pages other branches add; the test says when a crawl stopped at the cap.
CAP = 60
SHOTS = ARTIFACTS / "axe"
PORTAL = "members"


@dataclass
class Findings:
    """What the pages got wrong, page by page, and what was checked."""

    screenshots: bool
    problems: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)

    def check(self, page: Any, person: str, status: int | None) -> None:
        """axe at desktop width, then sideways scrolling at the iframe's width.
        ``status``: the answer's HTTP status, ``None`` for the page a form led to."""
        where = f"{person} {page.url} ({status or 'after a form'})"
        self.pages.append(where)
        if status and status >= 500:
            self.problems.append(f"{where}: server error")
        # Closed <details> hold forms (enrolment, a meeting's log, the agreement): open,
        # so that axe checks them too.
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        self.problems.extend(describe_violations(where, axe_violations(page)))
        self.problems.extend(f"{where}: focus not visible on {stop}"
                             for stop in unmarked_focus(page))  # fmt: skip
        page.set_viewport_size(LMS_FRAME)
        self.problems.extend(f"{where}: scrolls sideways at 600 px: {culprit}"
                             for culprit in horizontal_overflow(page))  # fmt: skip
        if self.screenshots:
            path = template_of(urlsplit(page.url).path).replace("*", "id")
            slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
            name = f"{person}-{len(self.pages):03d}-{slug}.png"
            page.screenshot(path=str(SHOTS / name), full_page=True)
        page.set_viewport_size(DESKTOP)


@pytest.fixture
def mail() -> Iterator[tuple[Inbox, str]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def demo_app(app_config: dict, mail: tuple[Inbox, str]) -> Iterator[Flask]:
    """The app as ``tandem demo`` runs it, with an email-link portal for its members."""
    app = create_app({**app_config, "TESTING": False, "TANDEM_DEMO": True,
                      "SECRET_KEY": TEST_SECRET_KEY, "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
                      "TANDEM_SMTP_URL": mail[1]})  # fmt: skip
    with app.app_context(), records.get_database(app).transaction() as session:
        tenant = seed_full_demo(app, session)
        portals.add_portal(
            session,
            app.extensions["tandem.secrets"],
            PortalSettings(name=PORTAL, kind="email_link", tenant_slug=tenant.slug),
        )
    yield app
    records.get_database(app).dispose()


def _first(app: Flask, statement: Any) -> Any:
    with app.app_context(), records.get_database(app).transaction() as session:
        return session.scalars(statement).first()


def _mentee_with_an_open_survey(app: Flask) -> str:
    """The first name of a mentee in an active pair who has not answered the mid-point
    pulse (the demo's quiet pairs): their check-ins page offers the survey."""
    answered = select(SurveyResponse.participant_id).where(SurveyResponse.survey == "midpoint")
    return str(
        _first(
            app,
            select(Member.given_name)
            .join(Participant, Participant.member_id == Member.id)
            .join(Match, Match.mentee_participant_id == Participant.id)
            .where(Match.status == "active", Participant.id.not_in(answered))
            .order_by(Match.id),
        )
    )


def test_every_page_passes_axe_and_fits_the_lms_frame(
    demo_app: Flask, mail: tuple[Inbox, str], backend: str
) -> None:
    findings = Findings(screenshots=backend == "sqlite")
    if findings.screenshots:
        shutil.rmtree(SHOTS, ignore_errors=True)
        SHOTS.mkdir(parents=True)
    credential = _first(demo_app, select(Credential.public_id).order_by(Credential.id))
    mentee = _mentee_with_an_open_survey(demo_app)
    started = time.monotonic()
    with live_server(demo_app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        crawls: dict[str, Crawl] = {}

        def person(name: str) -> tuple[Any, Crawl]:
            """A fresh browser context (no cookies) and its crawl."""
            page = browser.new_context(viewport=DESKTOP).new_page()
            crawls[name] = Crawl(base, CAP)
            return page, crawls[name]

        def check_here(page: Any, name: str) -> None:
            """The page a form led to: checked once loaded, and its links crawled."""
            page.wait_for_load_state("load")
            crawls[name].visited.append(page.url)
            findings.check(page, name, None)
            crawls[name].enqueue_links(page)

        def crawl(page: Any, name: str) -> None:
            crawls[name].run(page, lambda p, response: findings.check(p, name, response.status))

        try:
            # Anonymous: the home page, the Demo LMS, error and sign-in pages, the
            # signed-out page, a credential's public verification.
            page, anonymous = person("anonymous")
            anonymous.start(
                (
                    "/",
                    "/demo-lms",
                    "/sign-out",  # signed out
                    "/no-such-page",  # 404
                    "/me",  # 401: not signed in
                    f"/portal/{PORTAL}/email",
                    f"/credentials/{credential}",
                    "/lti/register",  # 400: no invitation
                )
            )
            crawl(page, "anonymous")
            page.goto(f"{base}/credentials/{credential}")
            page.fill("#token", "not a credential")
            page.locator("#verification button[type=submit]").click()
            check_here(page, "anonymous")
            crawl(page, "anonymous")

            # The coordinator, who also sets up a programme for the member to join.
            page, _ = person("coordinator")
            page.goto(f"{base}/demo-lms")
            first = page.locator("tbody tr").first.locator("td").first.inner_text().split(" ")[0]
            _launch_as(page, base, first)
            check_here(page, "coordinator")
            crawl(page, "coordinator")
            page.goto(f"{base}/programmes")
            new_programme = _set_up_programme(page, "Accessible cohort")
            check_here(page, "coordinator")
            crawl(page, "coordinator")

            # A mentee launched from the LMS: enrols, logs a meeting, answers a survey.
            page, _ = person("member")
            _launch_as(page, base, mentee)
            check_here(page, "member")
            page.goto(new_programme)
            details = page.locator("details:has(#enrol-mentee)")
            if details.get_attribute("open") is None:
                page.get_by_text("Join as mentee", exact=True).click()
            _fill_questionnaire(page, "#enrol-mentee", offer=False)
            page.locator("#enrol-mentee").get_by_role("button", name="Enrol as mentee").click()
            expect(page.locator("body")).to_contain_text("You are enrolled")
            check_here(page, "member")
            page.goto(f"{base}/checkins/")
            page.locator("summary[id^=log-open-]").first.click()
            form = page.locator("form[id^=checkin-form-]").first
            form.locator("input[name=met_on]").fill(date.today().isoformat())
            form.locator("button[type=submit]").click()
            check_here(page, "member")
            page.locator("a[id^=survey-]").first.click()
            for group in page.locator("#survey-form fieldset").all():
                group.locator("input[type=radio]").last.check()
            page.locator("#survey-form button[type=submit]").click()
            check_here(page, "member")
            crawl(page, "member")

            # A mentor of the association signs in with a link from their email.
            page, _ = person("portal-member")
            page.goto(f"{base}/portal/{PORTAL}/email")
            page.fill("input[name=email]", "amara.okafor@example.org")
            page.locator("main button[type=submit]").click()
            expect(page.locator("body")).to_contain_text("If this address belongs to a member")
            check_here(page, "portal-member")
            run_jobs(demo_app)
            body = mail[0].messages[-1].get_payload(decode=True).decode()
            page.goto(re.search(r"(http://127\.0\.0\.1:\d+/portal/\S+)", body).group(1))
            check_here(page, "portal-member")
            page.click("#sign-in")
            page.wait_for_url(f"{base}/me")
            check_here(page, "portal-member")
            crawl(page, "portal-member")
            page.goto(f"{base}/me")
            page.locator("#sign-out").click()
            page.wait_for_url(f"{base}/sign-out")
            check_here(page, "portal-member")
        finally:
            browser.close()
    elapsed = time.monotonic() - started
    summary = "\n".join(findings.pages)
    print(f"{len(findings.pages)} pages in {elapsed:.1f}s\n{summary}")
    for name, done in crawls.items():
        print(name, "not pages:", done.not_pages)
        assert done.exhausted, f"{name}'s crawl stopped at {CAP} pages: raise CAP"
    assert not findings.problems, "\n".join(findings.problems)


# The checks themselves, on pages made to fail them: a crawl that checks nothing, or an
# axe that never ran, would otherwise pass unseen.
FAULTY_PAGE = """<!doctype html><html lang="en"><head><title>Faulty</title></head><body><main>
<h1>Faulty</h1><img src="data:," id="no-alt"><p style="color:#bbb" id="faint">faint</p>
<a href="#here" id="plain">a link with the browser's thin focus ring</a>
<div style="width:900px" id="wide">wide</div></main></body></html>"""
FIXED_PAGE = """<!doctype html><html lang="en"><head><title>Fixed</title>
<style>:focus-visible { outline: 3px solid #000; }</style></head><body><main>
<h1>Fixed</h1><img src="data:," alt="A dot"><p style="color:#555">readable</p>
<a href="#here">a link with an outline</a>
<div style="max-width:900px">fits</div></main></body></html>"""


def test_the_checks_find_what_they_look_for() -> None:
    with chromium_page() as page:
        page.set_viewport_size(LMS_FRAME)
        page.set_content(FAULTY_PAGE)
        violations = axe_violations(page)
        assert {"image-alt", "color-contrast"} <= {v["id"] for v in violations}
        lines = describe_violations("faulty", violations)
        assert any(line.startswith("faulty: image-alt (critical) at #no-alt: ") for line in lines)
        assert [line.split(" ends at")[0] for line in horizontal_overflow(page)] == ["div#wide"]
        assert unmarked_focus(page) == ["a#plain (outline auto 1px)"]

        page.set_content(FIXED_PAGE)
        assert axe_violations(page) == []
        assert horizontal_overflow(page) == []
        assert unmarked_focus(page) == []


def test_the_crawl_follows_links_once_and_never_signs_in_or_out() -> None:
    site = Flask(__name__)
    site.config["TANDEM_ALLOW_INSECURE_URLS"] = True  # loopback, plain http
    asked: list[str] = []

    @site.before_request
    def note() -> None:
        asked.append(request.full_path.rstrip("?"))

    @site.get("/")
    def home() -> str:
        links = ["/a", "/a#part", "/sign-out", "/lti/login?iss=x", "/portal/p/login",
                 "/export.csv", "/data.json", "http://example.org/", "/items/1", "/items/2",
                 "/items/3", "/items/1/more"]  # fmt: skip
        return "".join(f'<a href="{link}">{link}</a>' for link in links)

    @site.get("/a")
    def a() -> str:
        return '<a href="/">home</a>'

    @site.get("/items/<int:n>")
    @site.get("/items/<int:n>/more")
    def item(n: int) -> str:
        return "an item"

    @site.get("/export.csv")
    def export() -> Response:
        return Response("a,b\n", mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=e.csv"})  # fmt: skip

    @site.get("/data.json")
    def data() -> dict:
        return {"a": 1}

    with live_server(site) as base, chromium_page() as page:
        checked: list[str] = []
        crawl = Crawl(base, cap=10)
        crawl.start(["/"])
        crawl.run(page, lambda p, response: checked.append(urlsplit(p.url).path))
        assert checked == ["/", "/a", "/items/1", "/items/2", "/items/1/more"]
        assert crawl.not_pages == [f"{base}/export.csv", f"{base}/data.json"]
        assert crawl.exhausted
        assert not {"/sign-out", "/lti/login?iss=x", "/portal/p/login", "/items/3"} & set(asked)

        capped = Crawl(base, cap=2)
        capped.start(["/"])
        capped.run(page, lambda p, response: None)
        assert capped.visited == [f"{base}/", f"{base}/a"] and not capped.exhausted
