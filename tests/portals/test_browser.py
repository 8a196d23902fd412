"""A real headless Chromium: from "Mentoring" in the member portal to Tandem's member page."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import sync_playwright

from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.support.oidc_provider import OidcProvider

from .conftest import PORTAL, Directory, register_portal


def _portal_around_tandem(app: Flask, provider: OidcProvider, server: str) -> None:
    """The portal links and embeds the live Tandem; its sign-in page asks for a click."""
    register_portal(app, provider, origins=(provider.issuer,))
    provider.interactive = True
    provider.tandem_login_url = f"{server}/portal/{PORTAL}/login"
    provider.tandem_embed_url = f"{server}/me"
    ARTIFACTS.mkdir(exist_ok=True)


@pytest.mark.browser
def test_from_mentoring_in_the_portal_to_the_member_page(
    app: Flask, server: str, provider: OidcProvider, directory: Directory, backend: str
) -> None:
    _portal_around_tandem(app, provider, server)
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001", "name": "Ada Lovelace"}

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{provider.issuer}/portal")
            page.screenshot(path=str(ARTIFACTS / f"portal-1-portal-{backend}.png"))
            page.click("#mentoring")
            page.wait_for_selector("#portal-sign-in")
            page.screenshot(path=str(ARTIFACTS / f"portal-2-sign-in-{backend}.png"))
            page.click("#portal-sign-in")
            page.wait_for_selector("#member")
            assert page.url == f"{server}/me"
            assert "Welcome, Ada Member" in page.content()
            page.screenshot(path=str(ARTIFACTS / f"portal-3-member-{backend}.png"), full_page=True)

            page.click("#programmes-link")
            page.wait_for_url(f"{server}/programmes**")

            # Embedded in the portal: the member page renders inside its frame.
            page.goto(f"{provider.issuer}/portal/embed")
            frame = page.frame_locator("#tandem")
            assert "Welcome, Ada Member" in frame.locator("#member").inner_text()
            page.screenshot(path=str(ARTIFACTS / f"portal-4-embedded-{backend}.png"))
        finally:
            browser.close()


@pytest.mark.browser
def test_sign_in_then_sign_out_at_tandem_and_at_the_portal(
    app: Flask, server: str, provider: OidcProvider, directory: Directory, backend: str
) -> None:
    provider.end_session = True
    _portal_around_tandem(app, provider, server)
    provider.next_claims = {"sub": "p-ada", "member_number": "M-1001"}

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{provider.issuer}/portal")
            page.click("#mentoring")
            page.click("#portal-sign-in")
            page.wait_for_selector("#member")

            # Signed out from inside the portal's frame: the whole window goes to the
            # portal's sign-out and comes back to Tandem's page.
            page.goto(f"{provider.issuer}/portal/embed")
            page.frame_locator("#tandem").locator("#sign-out").click()
            page.wait_for_selector("#signed-out")
            assert page.url == f"{server}/sign-out"
            assert len(provider.logouts) == 1
            assert provider.logouts[0]["post_logout_redirect_uri"] == f"{server}/sign-out"
            page.screenshot(path=str(ARTIFACTS / f"portal-5-signed-out-{backend}.png"))

            response = page.goto(f"{server}/me")
            assert response is not None and response.status == 401
        finally:
            browser.close()
