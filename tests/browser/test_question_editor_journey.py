"""The question editor in a real browser, through the Demo LMS and real LTI launches.

The coordinator adds a question on the set-up page and sees it in the live preview,
moves it up, saves, and gives it a rule; a mentor and a mentee see it on their
enrolment forms and answer it; matching runs with it and the explanation names it;
after that the editor is locked.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import records
from records import Programme
from tests.support.browser import (
    ARTIFACTS,
    chromium_page,
    csp_violations,
    demo_app,
    live_server,
    screenshot,
)

from .test_matchday_journey import (
    _create_programme,
    _fill_questionnaire,
    _launch_as,
    _run_and_open_draft,
)

pytestmark = pytest.mark.browser


def test_add_a_question_preview_it_answer_it_and_match_on_it(app_config: dict) -> None:
    app = demo_app(app_config)
    with live_server(app) as base, chromium_page() as page:
        app.config["TANDEM_BASE_URL"] = base
        violations = csp_violations(page)
        page.goto(f"{base}/demo-lms")
        coordinator = page.locator("tbody tr").first.locator("td").first.inner_text().split(" ")[0]
        programme_url = _create_programme(page, base, coordinator, "Editor cohort")
        settings_url = page.url

        # Add a question in the empty row; the preview follows as she types.
        row = page.locator(".question-row").last
        n = row.get_attribute("id").removeprefix("qe-")
        expect(row.locator(f"#qe-{n}-min")).to_be_hidden()  # the script shows a kind's fields
        row.locator(f"#qe-{n}-prompt").fill("Which sport do you follow?")
        row.locator(f"#qe-{n}-label").fill("sport")
        row.locator(f"#qe-{n}-key").fill("sport")
        row.locator(f"#qe-{n}-kind").select_option("choice")
        row.locator(f"#qe-{n}-options").fill("football\ncricket\nrugby")
        preview = page.locator("#questionnaire-preview")
        expect(preview.locator("#preview-mentee")).to_contain_text("Which sport do you follow?")
        expect(preview.locator("#preview-mentor")).to_contain_text("cricket")
        # Move it above the last template question ("about you").
        row.get_by_role("button", name=f"Move question {int(n) + 1} up").click()
        expect(page.locator(".question-row").nth(int(n) - 1)).to_have_id(f"qe-{n}")
        screenshot(page, "question-editor-01-added-with-preview")
        page.locator("#questionnaire-preview").screenshot(
            path=str(ARTIFACTS / "question-editor-01-preview.png")
        )
        row.screenshot(path=str(ARTIFACTS / "question-editor-01-new-question.png"))
        page.locator("#save-questionnaire").click()
        expect(page.locator("body")).to_contain_text("The questionnaire is saved.")

        # Give it a rule: a must-have-in-common, weight 9.
        rule = page.locator(".rule-row").last
        rule.locator("select[name$='_question']").select_option("sport")
        rule.locator("select[name$='_rule']").select_option("same")
        rule.locator("input[name$='_weight']").fill("9")
        screenshot(page, "question-editor-02-rule")
        page.locator("#save-questionnaire").click()
        expect(page.locator("body")).to_contain_text("The questionnaire is saved.")
        with app.app_context():
            saved = (
                records.get_session()
                .scalars(select(Programme).where(Programme.name == "Editor cohort"))
                .one()
                .questionnaire
            )
        ids = [q["id"] for q in saved["questions"]]
        assert ids[-2:] == ["sport", "about"]
        assert {"question": "sport", "rule": "same", "weight": 9} in saved["rules"]

        # A mentor and a mentee see it on their enrolment forms and answer it.
        for person, role in (("Amara", "mentor"), ("Owen", "mentee")):
            _launch_as(page, base, person)
            page.goto(programme_url)
            details = page.locator(f"details:has(#enrol-{role})")
            if details.get_attribute("open") is None:
                page.get_by_text(f"Join as {role}", exact=True).click()
            form = page.locator(f"#enrol-{role}")
            expect(form).to_contain_text("Which sport do you follow?")
            _fill_questionnaire(page, f"#enrol-{role}", offer=role == "mentor")
            form.locator('input[name="sport"][value="cricket"]').check()
            screenshot(page, f"question-editor-03-enrol-{role}")
            form.get_by_role("button", name=f"Enrol as {role}").click()
            expect(page.locator("body")).to_contain_text("You are enrolled")

        # Matching runs with it, and the explanation names it.
        draft = _run_and_open_draft(page, base, coordinator, programme_url)
        assert "you both chose cricket for sport" in draft
        screenshot(page, "question-editor-04-explanation")

        # From now on the questionnaire is fixed, and the page says why.
        page.goto(settings_url)
        expect(page.locator("#questionnaire")).to_contain_text(
            "Matching has run for this programme"
        )
        expect(page.locator("#save-questionnaire")).to_be_disabled()
        screenshot(page, "question-editor-05-locked")
        assert violations == []
    records.get_database(app).dispose()
