"""The home pages in a real headless Chromium: a member's home in each state (a proposal
to answer, an agreement to sign, a check-in due, an open survey, a programme to enrol
in, nothing to do), the coordinator's home and its links, the navigation (keyboard,
``aria-current``, the course), and the ``lti.frameResize`` message a framed page posts to
its parent, on load and when its height changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from checkins import CheckinDraft, log_checkin
from records import Agreement, Course, Enrolment, Match, Member, Programme, utcnow
from tests.support.browser import chromium_page, screenshot
from tests.support.checkins_factory import World, make_member, make_pair, make_world
from tests.support.checkins_web import session_cookie

pytestmark = pytest.mark.browser
HOST = "127.0.0.1"


@dataclass
class People:
    world: World
    course: Course
    by_state: dict[str, Member]
    enrolling: Programme


def _agreement(session: Session, match: Match, *sides: str) -> None:
    goals = [{"goal": "Lead a client meeting", "by": "2027-06-01"}]
    agreement = Agreement(tenant_id=match.tenant_id, match_id=match.id, goals=goals)
    for side in sides:
        setattr(agreement, f"{side}_signed_at", utcnow() - timedelta(days=20))
    session.add(agreement)


def _people(session: Session) -> People:
    """One member in each state of the home page, today."""
    now = utcnow()
    world = make_world(session, n_pairs=0, starts_on=now.date() - timedelta(days=60))
    course = Course(tenant_id=world.tenant.id, source="lti", external_id="m-101",
                    title="Mentoring in practice")  # fmt: skip
    session.add(course)
    session.flush()
    world.programme.course_id = course.id
    tenant, programme = world.tenant, world.programme

    def pair(mentor: str, mentee: str, days: int, **extra: object):  # type: ignore[no-untyped-def]
        return make_pair(session, tenant, programme, mentor, mentee,
                         accepted_at=now - timedelta(days=days), **extra)  # type: ignore[arg-type]  # fmt: skip

    proposal = pair("Pia Proposer", "Pat Pending", 0, status="proposed")
    proposal.match.mentee_response = "pending"
    proposal.match.accepted_at = None
    agreement = pair("Abe Agreed", "Ana Unsigned", 3)
    _agreement(session, agreement.match, "mentor")
    due = pair("Dan Due", "Dee Partner", 29)
    _agreement(session, due.match, "mentor", "mentee")
    due.mentor.time_zone = "Europe/Paris"
    survey = pair("Sam Survey", "Sue Partner", 31)
    _agreement(session, survey.match, "mentor", "mentee")
    idle = pair("Ned Nothing", "Noa Partner", 20)
    _agreement(session, idle.match, "mentor", "mentee")
    session.flush()
    for met, who, days_ago in ((survey, survey.mentee, 2), (idle, idle.mentee, 16)):
        log_checkin(session, tenant.id, met.match.id, who.id,
                    CheckinDraft(met_on=now.date() - timedelta(days=days_ago),
                                 duration_minutes=45), now=now)  # fmt: skip
    # A programme of the course that only the newcomer takes (the others were never
    # enrolled in it): theirs alone to enrol in.
    enrolling = Programme(tenant_id=tenant.id, name="Spring peer circle", status="enrolling",
                          course_id=course.id,
                          starts_on=now.date() + timedelta(days=20))  # fmt: skip
    newcomer = make_member(session, tenant, "Eve Enrolling")
    taking = Enrolment(tenant_id=tenant.id, member_id=newcomer.id, course_id=course.id,
                       role="Learner", source="lti")  # fmt: skip
    session.add_all([enrolling, taking])
    session.commit()
    return People(world, course, {
        "proposal": proposal.mentee, "agreement": agreement.mentee, "checkin": due.mentor,
        "survey": survey.mentee, "enrol": newcomer, "nothing": idle.mentee,
    }, enrolling)  # fmt: skip


def _sign_in(app: Flask, page, people: People, member: Member, **extra: object) -> None:  # type: ignore[no-untyped-def]
    name, value = session_cookie(app, people.world.tenant.id, member.id,
                                 course_id=people.course.id, **extra)  # type: ignore[arg-type]  # fmt: skip
    page.context.clear_cookies()
    page.context.add_cookies([{"name": name, "value": value, "domain": HOST, "path": "/"}])


EXPECTED = {
    "proposal": ("Pia Proposer is proposed as your match", "See why, and accept or decline"),
    "agreement": ("Sign your mentoring agreement with Abe Agreed", "Open the agreement"),
    "checkin": ("A check-in with Dee Partner has been due since", "Log the check-in"),
    "survey": ('The survey "One month in" is open', "Answer the survey"),
    "enrol": ("Spring peer circle is open for enrolment", "Enrol"),
}


def test_the_member_home_in_each_state(
    app: Flask, session: Session, server: str, backend: str
) -> None:
    people = _people(session)
    with chromium_page() as page:
        for state, member in people.by_state.items():
            _sign_in(app, page, people, member)
            page.goto(f"{server}/me")
            nav = page.get_by_role("navigation", name="Tandem")
            expect(nav.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
            expect(page.locator("#nav-course")).to_have_text("Mentoring in practice")
            steps = page.locator("ol.next-steps > li")
            if state == "nothing":
                expect(steps).to_have_count(0)
                expect(page.locator("#nothing-to-do")).to_have_text(
                    "Nothing to do; next check-in in 12 days."
                )
            else:
                text, action = EXPECTED[state]
                first = steps.first
                expect(first).to_have_attribute("data-kind", state)
                expect(first).to_contain_text(text)
                expect(first.get_by_role("link", name=action, exact=True)).to_be_visible()
            screenshot(page, f"home-member-{state}-{backend}")

        # The check-in's date is the member's: Paris, where they live.
        _sign_in(app, page, people, people.by_state["checkin"])
        page.goto(f"{server}/me")
        expect(page.locator("#today")).to_contain_text("in your time zone (Europe/Paris)")
        # Each step's link goes where the member acts.
        page.locator("ol.next-steps > li").first.get_by_role("link").click()
        expect(page).to_have_url(f"{server}/checkins/#match-{_match_of(session, people)}")
        expect(page.get_by_role("link", name="My mentoring")).to_have_attribute(
            "aria-current", "page"
        )

        _sign_in(app, page, people, people.by_state["enrol"])
        page.goto(f"{server}/me")
        page.get_by_role("link", name="Enrol", exact=True).click()
        expect(page).to_have_url(f"{server}/programmes/{people.enrolling.id}")
        expect(page.get_by_role("link", name="Programmes")).to_have_attribute(
            "aria-current", "true"
        )


def _match_of(session: Session, people: People) -> int:
    from sqlalchemy import select

    from records import Participant

    member = people.by_state["checkin"]
    return session.scalars(
        select(Match.id)
        .join(Participant, Participant.id == Match.mentor_participant_id)
        .where(Participant.member_id == member.id)
    ).one()


def test_the_navigation_is_reachable_by_keyboard(app: Flask, session: Session, server: str) -> None:
    people = _people(session)
    with chromium_page() as page:
        _sign_in(app, page, people, people.by_state["nothing"])
        page.goto(f"{server}/checkins/")
        order = []
        for _ in range(7):
            page.keyboard.press("Tab")
            order.append(
                page.evaluate("() => document.activeElement.id || document.activeElement.className")
            )
        assert order == ["brand", "nav-home", "nav-programmes", "nav-mentoring", "my-data-link",
                         "privacy-link", "sign-out"]  # fmt: skip
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")  # on "Programmes"
        expect(page).to_have_url(f"{server}/programmes")
        expect(page.locator("#nav-programmes")).to_have_attribute("aria-current", "page")


def test_the_coordinator_home_links_each_line_to_the_place_to_act(
    app: Flask, session: Session, server: str, backend: str
) -> None:
    people = _people(session)
    world = people.world
    with chromium_page() as page:
        _sign_in(app, page, people, world.coordinator, coordinator=True)
        page.goto(f"{server}/coordinator")
        nav = page.get_by_role("navigation", name="Tandem")
        expect(nav.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
        # Two programmes of the course: a dashboard link for each, by name, folded into
        # one disclosure that the keyboard opens.
        name = world.programme.name
        dashboards = nav.locator("summary", has_text="Dashboards")
        dashboards.focus()
        page.keyboard.press("Enter")
        expect(nav.get_by_role("link", name=people.enrolling.name)).to_be_visible()
        dashboard = nav.get_by_role("link", name=name, exact=True)
        expect(dashboard).to_have_attribute("href", f"/dashboard/{world.programme.id}")
        card = page.locator(f"#programme-{world.programme.id}")
        expect(card.locator(".state")).to_have_text("Running")
        expect(card).to_contain_text("10 new enrolments")
        screenshot(page, f"home-coordinator-{backend}")
        card.locator(f"#new-{world.programme.id} a").click()
        expect(page).to_have_url(f"{server}/programmes/{world.programme.id}/match")
        page.get_by_role("link", name="Home").click()
        # Within the sitting, what was new stays new.
        expect(page.locator(f"#new-{world.programme.id}")).to_contain_text("10 new enrolments")
        page.locator("nav summary", has_text="Dashboards").click()
        nav.get_by_role("link", name=name, exact=True).click()
        expect(page).to_have_url(f"{server}/dashboard/{world.programme.id}")
        # The link (in the folded disclosure) is the current page; its summary says so.
        link = page.locator(f"#nav-dashboard-{world.programme.id}")
        expect(link).to_have_attribute("aria-current", "page")
        expect(nav.locator("summary")).to_have_class("current")


PARENT = """<!doctype html><title>Course page</title>
<h1>An LMS course page</h1>
<iframe id="tool" src="/me" style="width: 900px; height: 150px"></iframe>"""


def test_a_framed_page_asks_its_parent_to_fit_it(
    app: Flask, session: Session, server: str, backend: str
) -> None:
    people = _people(session)
    with chromium_page() as page:
        _sign_in(app, page, people, people.by_state["proposal"])
        # The LMS's page around Tandem, served at Tandem's own origin (which the
        # frame-ancestors policy lets frame it), listening as Canvas and Moodle do.
        page.route(f"{server}/lms-course", lambda route: route.fulfill(
            status=200, content_type="text/html", body=PARENT))  # fmt: skip
        page.add_init_script(
            """if (window === window.top) {
                 window.resizes = [];
                 window.addEventListener("message", (e) => {
                   if (e.data && e.data.subject === "lti.frameResize") {
                     window.resizes.push(e.data.height);
                     document.getElementById("tool").style.height = e.data.height + "px";
                   }
                 });
               }"""
        )
        page.goto(f"{server}/lms-course")
        frame = page.frame_locator("#tool")
        expect(frame.locator("#member")).to_contain_text("Welcome, Pat Pending")
        page.wait_for_function("() => window.resizes.length >= 1")
        first = page.evaluate("() => window.resizes[0]")
        inner = page.frame(url=f"{server}/me")
        assert inner is not None
        height = inner.evaluate(
            "() => Math.ceil(document.documentElement.getBoundingClientRect().height)"
        )
        assert first == height and first > 150
        # The frame now fits the page: no inner scroll bar.
        assert inner.evaluate("() => document.documentElement.scrollHeight <= window.innerHeight")
        screenshot(page, f"home-framed-{backend}")

        # The page grows (a disclosure opens, a message appears): the parent is asked again.
        inner.evaluate("() => { document.querySelector('main').style.paddingBottom = '400px'; }")
        page.wait_for_function("(h) => window.resizes.some(x => x >= h + 400)", arg=first)
        assert page.evaluate("() => window.resizes.length") >= 2

    with chromium_page() as page:
        # Not framed: nothing is posted, no script fails.
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _sign_in(app, page, people, people.by_state["nothing"])
        page.add_init_script(
            """window.posted = [];
               window.addEventListener("message", (e) => window.posted.push(e.data));"""
        )
        page.goto(f"{server}/me")
        expect(page.locator("#nothing-to-do")).to_be_visible()
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.posted") == [] and errors == []
