"""The strict script policy in a real browser: Tandem's own scripts (each with the page's
nonce) still run, an injected one does not, and Chromium reports no violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

import records
from lti_tool.app import create_app
from programmes import seed_demo
from tests.conftest import TEST_ENCRYPTION_KEY, TEST_SECRET_KEY
from tests.support.browser import chromium_page, live_server, screenshot

pytestmark = pytest.mark.browser


def test_pages_run_their_own_scripts_and_no_other(app_config: dict) -> None:
    app = create_app({**app_config, "TESTING": False, "TANDEM_DEMO": True,
                      "SECRET_KEY": TEST_SECRET_KEY,
                      "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY})  # fmt: skip
    with app.app_context():
        seed_demo(records.get_session())
        records.get_session().commit()
    with live_server(app) as base, chromium_page() as page:
        violations: list[str] = []
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        # The Demo LMS answers the login with an auto-posting form: an inline script.
        page.goto(f"{base}/demo-lms")
        page.get_by_role("link", name="Launch Tandem as Amara").click()
        page.wait_for_load_state("networkidle")
        assert page.url.endswith("/me"), page.url

        # The certificate's Print button is wired by the page's own (nonce) script.
        page.evaluate("() => { window.print = () => { window.printed = true; }; }")
        page.goto(f"{base}/checkins/certificate")
        page.evaluate("() => { window.print = () => { window.printed = true; }; }")
        page.locator("#print").click()
        assert page.evaluate("() => window.printed === true")
        screenshot(page, "script-policy-certificate")
        assert violations == []

        # Script that found its way into the page (as an injection would) does not run.
        ran = page.evaluate(
            """() => {
                const s = document.createElement("script");
                s.textContent = "window.injected = true";
                document.body.appendChild(s);
                const img = document.createElement("img");
                img.setAttribute("onerror", "window.handler = true");
                img.src = "data:,";
                document.body.appendChild(img);
                const seen = () => [!!window.injected, !!window.handler];
                return new Promise(r => setTimeout(() => r(seen()), 300));
            }"""
        )
        assert ran == [False, False]
        expect(page.locator("body")).to_contain_text("Record of mentoring")
        assert violations and all("script" in v for v in violations)
    records.get_database(app).dispose()
