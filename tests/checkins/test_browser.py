"""A real headless Chromium: sign the agreement, log a check-in, answer the day-30 survey,
see the dashboard with its chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.orm import Session

from records import utcnow
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.support.checkins_factory import make_pair, make_world
from tests.support.checkins_web import session_cookie


@pytest.mark.browser
def test_member_and_coordinator_journey(
    app: Flask, session: Session, server: str, backend: str
) -> None:
    today = utcnow().date()
    world = make_world(session, n_pairs=0, starts_on=today - timedelta(days=45))
    pair = make_pair(session, world.tenant, world.programme, "Maya Mentor", "Milo Mentee",
                     accepted_at=utcnow() - timedelta(days=40))  # fmt: skip
    session.commit()
    ARTIFACTS.mkdir(exist_ok=True)
    host = "127.0.0.1"

    def as_member(context, member_id: int, coordinator: bool = False) -> None:
        name, value = session_cookie(app, world.tenant.id, member_id, coordinator=coordinator)
        context.clear_cookies()
        context.add_cookies([{"name": name, "value": value, "domain": host, "path": "/"}])

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        page = context.new_page()
        as_member(context, pair.mentee.id)
        page.goto(f"{server}/checkins/")
        form = page.locator(f"#agreement-form-{pair.match.id}")
        form.locator("input[name=goal]").first.fill("Lead a client meeting on my own")
        form.locator("input[name=goal_by]").first.fill((today + timedelta(days=90)).isoformat())
        form.locator("input[name=meeting_frequency]").fill("every four weeks")
        form.locator("input[name=channel]").fill("video call")
        form.locator("input[name=out_of_scope]").fill("my employer's internal disputes")
        form.locator("button[type=submit]").click()
        page.locator(f"#sign-{pair.match.id}").click()
        expect(page.locator("body")).to_contain_text("You signed the agreement.")
        page.screenshot(path=str(ARTIFACTS / f"checkins-agreement-{backend}.png"), full_page=True)

        as_member(context, pair.mentor.id)
        page.goto(f"{server}/checkins/")
        page.locator(f"#sign-{pair.match.id}").click()
        expect(page.locator("body")).to_contain_text("Mentor signed")
        expect(page.locator("body")).to_contain_text("mentee signed")

        page.locator(f"#log-open-{pair.match.id}").click()
        checkin = page.locator(f"#checkin-form-{pair.match.id}")
        checkin.locator("input[name=met_on]").fill((today - timedelta(days=1)).isoformat())
        checkin.locator("input[name=duration_minutes]").fill("50")
        checkin.locator("input[name=topics]").first.check()
        checkin.locator("textarea[name=summary]").fill("Planned the first client meeting")
        checkin.locator("textarea[name=private_notes]").fill("Milo is anxious about his manager")
        checkin.locator("input[name=next_meeting_at]").fill(
            (today + timedelta(days=27)).isoformat() + "T18:00"
        )
        checkin.locator("button[type=submit]").click()
        expect(page.locator("body")).to_contain_text("Check-in logged.")
        expect(page.locator("body")).to_contain_text("Milo is anxious")
        page.screenshot(path=str(ARTIFACTS / f"checkins-logged-{backend}.png"), full_page=True)

        as_member(context, pair.mentee.id)
        page.goto(f"{server}/checkins/")
        page.locator(f"#survey-day30-{pair.match.id}").click()
        for question in ("satisfaction", "usefulness", "confidence"):
            page.locator(f"input[name={question}][value='4']").check()
        page.locator("textarea[name=comment]").fill("Useful so far")
        page.locator("#survey-form button[type=submit]").click()
        expect(page.locator("body")).to_contain_text("your answers are in")
        assert page.locator(f"#survey-day30-{pair.match.id}").count() == 0

        as_member(context, world.coordinator.id, coordinator=True)
        page.goto(f"{server}/dashboard/{world.programme.id}")
        assert page.locator("#checkins-chart svg polyline").count() >= 1
        assert "Milo is anxious" not in page.content()
        assert "100%" in page.content()  # the one pair is active
        page.screenshot(path=str(ARTIFACTS / f"checkins-dashboard-{backend}.png"), full_page=True)
        browser.close()
