"""Match day in a real browser, through the Demo LMS and real LTI launches.

Coordinator launches, creates a programme from a template; a mentor and a mentee
enrol by filling the questionnaire; the coordinator runs matching, reads the
explanation and publishes; the mentee launches again and accepts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import records
from checkins.demo import PREVIOUS_NAME
from records import Match, Programme
from tests.support.browser import chromium_page, demo_app, live_server, screenshot

pytestmark = pytest.mark.browser


def _launch_as(page, base: str, first_name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/demo-lms")
    page.get_by_role("link", name=f"Launch Tandem as {first_name}").click()
    page.wait_for_load_state("networkidle")


def _set_up_programme(page, name: str) -> str:  # type: ignore[no-untyped-def]
    """On the coordinator's programmes page, set up a one-to-one programme from its
    template; the page is left on its set-up page. Returns the programme's (member) URL."""
    page.select_option("#template", "one_to_one")
    page.fill("#name", name)
    page.get_by_role("button", name="Create programme").click()
    expect(page.locator("body")).to_contain_text("is set up and open for enrolment")
    return page.url.replace("/settings", "")


def _fill_questionnaire(page, form: str, *, offer: bool) -> None:  # type: ignore[no-untyped-def]
    scope = page.locator(form)
    for value in ("integrity", "curiosity", "community"):
        scope.locator(f'input[name="values"][value="{value}"]').check()
    goal_field = "supports_goals" if offer else "goals"
    scope.locator(f'input[name="{goal_field}"][value="building confidence"]').check()
    skill_field = "can_offer" if offer else "want_to_learn"
    scope.locator(f'input[name="{skill_field}"][value="negotiation"]').check()
    scope.locator(f'input[name="{skill_field}"][value="public speaking"]').check()
    scope.locator('input[name="style"][value="direct and structured"]').check()
    scope.locator('input[name="format"][value="video call"]').check()
    scope.locator(f'input[name="seniority"][value="{5 if offer else 1}"]').check()
    scope.locator('select[name="availability__time_zone"]').select_option("Europe/London")
    for slot in ("tue-18", "thu-18"):
        scope.locator(f'input[name="availability"][value="{slot}"]').check()
    scope.locator('input[name="languages"][value="English"]').check()


def _create_programme(page, base: str, coordinator: str, name: str) -> str:  # type: ignore[no-untyped-def]
    """The coordinator launches and sets up a programme (:func:`_set_up_programme`)."""
    _launch_as(page, base, coordinator)
    page.locator("#programmes-link").click()
    return _set_up_programme(page, name)


def _run_and_open_draft(page, base: str, coordinator: str, programme_url: str) -> str:  # type: ignore[no-untyped-def]
    """The coordinator runs matching (one new pair) and opens its reasons; returns the
    draft's text."""
    _launch_as(page, base, coordinator)
    page.goto(programme_url + "/match")
    page.locator("#run").click()
    expect(page.locator("body")).to_contain_text("Draft ready: 1 new pairs")
    page.locator("#draft details summary").first.click()
    return page.locator("#draft").inner_text()


def test_coordinator_to_accepted_match(app_config: dict, tmp_path: Path) -> None:
    app = demo_app(app_config)
    with live_server(app) as base, chromium_page() as page:
        app.config["TANDEM_BASE_URL"] = base
        page.goto(base + "/")
        page.get_by_role("link", name="Demo LMS").first.click()
        screenshot(page, "matchday-01-demo-lms")
        coordinator = page.locator("tbody tr").first.locator("td").first.inner_text().split(" ")[0]

        # The coordinator sets up a programme from a template.
        programme_url = _create_programme(page, base, coordinator, "Browser cohort")
        screenshot(page, "matchday-02-programme-set-up")

        # A mentor and a mentee enrol.
        for person, role in (("Amara", "mentor"), ("Owen", "mentee")):
            _launch_as(page, base, person)
            page.goto(programme_url)
            details = page.locator(f"details:has(#enrol-{role})")
            if details.get_attribute("open") is None:  # the first role's form is open already
                page.get_by_text(f"Join as {role}", exact=True).click()
            _fill_questionnaire(page, f"#enrol-{role}", offer=role == "mentor")
            screenshot(page, f"matchday-03-enrol-{role}")
            page.locator(f"#enrol-{role}").get_by_role("button", name=f"Enrol as {role}").click()
            expect(page.locator("body")).to_contain_text("You are enrolled")

        # Match day: run, read why, publish.
        draft = _run_and_open_draft(page, base, coordinator, programme_url)
        assert "offers negotiation and public speaking, which you want to learn" in draft
        assert "you both value" in draft
        screenshot(page, "matchday-04-draft")
        page.locator("#publish").click()
        expect(page.locator("body")).to_contain_text(
            "Published 1 pair: both sides can now accept or decline."
        )

        # The mentee sees the proposal with the reasons, and accepts.
        _launch_as(page, base, "Owen")
        page.goto(programme_url)
        expect(page.locator("body")).to_contain_text("Your mentor: Amara Okafor")
        screenshot(page, "matchday-05-mentee-proposal")
        page.get_by_role("button", name="Accept").click()
        expect(page.locator("body")).to_contain_text("You accepted the match.")
        screenshot(page, "matchday-06-accepted")

    with app.app_context():
        match = (
            records.get_session()
            .scalars(
                select(Match)
                .join(Programme, Programme.id == Match.programme_id)
                .where(Match.status != "draft", Programme.name != PREVIOUS_NAME)
            )
            .one()
        )
        assert match.mentee_response == "accepted" and match.mentor_response == "pending"
    records.get_database(app).dispose()
