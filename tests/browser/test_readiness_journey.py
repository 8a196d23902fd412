"""Readiness in a real browser: a mentor sees "Complete Mentor essentials", the completion
arrives by a Moodle sync (vendor-shaped fixtures), and the mentor is matched.

Nobody touches the programme between the two runs of matching: the sync alone makes the
mentor ready.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from playwright.sync_api import expect
from sqlalchemy import select

import records
from connectors import sync
from connectors.moodle import MoodleConnector
from lti_tool.app import create_app
from programmes import seed_demo
from records import ConnectorConfig, Match, Member, Programme
from tests.connectors.test_moodle import moodle_site
from tests.support.browser import chromium_page, demo_config, live_server, screenshot

from .test_matchday_journey import _create_programme, _fill_questionnaire, _launch_as

pytestmark = pytest.mark.browser
MOODLE = "https://moodle.example.org"


def _as_amara(callback):  # type: ignore[no-untyped-def]
    """Moodle's answers with its learner Ada being the demo's Amara (same member number),
    and its course called Mentor essentials."""

    def answer(request):  # type: ignore[no-untyped-def]
        status, headers, body = callback(request)
        for old, new in (
            ("Ada Lovelace", "Amara Okafor"),
            ("ada@example.org", "amara.okafor@example.org"),
            ("M-100", "DIP-1001"),
            ('"Ada"', '"Amara"'),
            ("Lovelace", "Okafor"),
            ("Mentoring essentials", "Mentor essentials"),
        ):
            body = body.replace(old, new)
        return status, headers, body

    return answer


def _sync(app, tenant_id: int, connector_id: int, *, completed: bool) -> None:  # type: ignore[no-untyped-def]
    errors = (
        None
        if completed
        else {"core_completion_get_course_completion_status": "error_nocriteriaset"}
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as moodle:
        moodle.add_callback(
            responses.POST,
            f"{MOODLE}/webservice/rest/server.php",
            callback=_as_amara(moodle_site([], errors=errors)),
        )
        connector = MoodleConnector(MOODLE, "token", {"page_size": 2}, sleep=lambda s: None)
        result = sync(records.get_database(app), tenant_id, connector_id, connector, full=True)
    assert result.status == "succeeded", result.errors


def test_a_mentor_becomes_ready_when_moodle_reports_the_completion(
    app_config: dict, tmp_path: Path
) -> None:
    app = create_app(demo_config(app_config))
    with app.app_context():
        session = records.get_session()
        tenant = seed_demo(session)
        connector = ConnectorConfig(
            tenant_id=tenant.id, name="moodle", kind="moodle", base_url=MOODLE, settings={}
        )
        session.add(connector)
        session.commit()
        ids = (tenant.id, connector.id)
    _sync(app, *ids, completed=False)  # the course and the people, no completion yet
    with app.app_context():
        amara = (
            records.get_session()
            .scalars(select(Member).where(Member.member_number == "DIP-1001"))
            .one()
        )
        # The sync found the demo's Amara by member number: no new member, same name.
        assert amara.name == "Amara Okafor"

    with live_server(app) as base, chromium_page() as page:
        app.config["TANDEM_BASE_URL"] = base
        page.goto(f"{base}/demo-lms")
        coordinator = page.locator("tbody tr").first.locator("td").first.inner_text().split(" ")[0]

        # The coordinator sets up a programme that asks mentors to complete the course.
        programme_url = _create_programme(page, base, coordinator, "Ready cohort")
        page.select_option("#mentor_course", label="Mentor essentials (MENT101) · moodle")
        page.locator("#save-readiness").click()
        expect(page.locator("body")).to_contain_text("Readiness rules saved")
        screenshot(page, "readiness-01-rule")

        for person, role in (("Amara", "mentor"), ("Owen", "mentee")):
            _launch_as(page, base, person)
            page.goto(programme_url)
            details = page.locator(f"details:has(#enrol-{role})")
            if details.get_attribute("open") is None:
                page.get_by_text(f"Join as {role}", exact=True).click()
            _fill_questionnaire(page, f"#enrol-{role}", offer=role == "mentor")
            page.locator(f"#enrol-{role}").get_by_role("button", name=f"Enrol as {role}").click()
            expect(page.locator("body")).to_contain_text("You are enrolled")

        # Amara sees what is missing, with a link to the course in Moodle.
        _launch_as(page, base, "Amara")
        page.goto(programme_url)
        todo = page.locator("#readiness")
        expect(todo).to_contain_text("Before you can be matched")
        link = todo.get_by_role("link", name="Complete Mentor essentials")
        expect(link).to_have_attribute("href", f"{MOODLE}/course/view.php?id=42")
        screenshot(page, "readiness-02-mentor-not-ready")

        # Match day: Amara is listed as not ready, and there is no one to match yet.
        _launch_as(page, base, coordinator)
        page.goto(programme_url + "/match")
        expect(page.locator("#not-ready")).to_contain_text("not ready: complete Mentor essentials")
        page.locator("#run").click()
        expect(page.locator("body")).to_contain_text("There are no mentors ready yet")
        screenshot(page, "readiness-03-board-not-ready")

        # Moodle reports the completion at the next sync; nobody touches the programme.
        _sync(app, *ids, completed=True)

        page.goto(programme_url + "/match")
        expect(page.locator("#not-ready")).to_have_count(0)
        page.locator("#run").click()
        expect(page.locator("body")).to_contain_text("Draft ready: 1 new pairs")
        page.locator("#publish").click()
        expect(page.locator("body")).to_contain_text(
            "Published 1 pair: both sides can now accept or decline."
        )

        _launch_as(page, base, "Amara")
        page.goto(programme_url)
        expect(page.locator("body")).to_contain_text("Your mentee: Owen Evans")
        expect(page.locator("#readiness")).to_have_count(0)
        screenshot(page, "readiness-04-mentor-matched")

    with app.app_context():
        [match] = (
            records.get_session()
            .scalars(
                select(Match)
                .join(Programme, Programme.id == Match.programme_id)
                .where(Programme.name == "Ready cohort")
            )
            .all()
        )
        assert match.status == "proposed"
    records.get_database(app).dispose()
