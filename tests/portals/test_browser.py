"""A real headless Chromium: from "Mentoring" in the member portal to Tandem's member page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import sync_playwright

from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.support.jobs import run_jobs
from tests.support.oidc_provider import OidcProvider
from tests.support.smtp import Inbox, smtp_server

from .conftest import PORTAL, Directory, register_portal
from .test_email_links import NAME, email_portal  # noqa: F401 (a fixture)


@pytest.fixture
def mail() -> Iterator[tuple[Inbox, str]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def app_config(app_config: dict, mail: tuple[Inbox, str]) -> dict:
    # No TANDEM_BASE_URL: links point at the loopback server the browser talks to.
    return {**app_config, "TANDEM_SMTP_URL": mail[1]}


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


@pytest.mark.browser
@pytest.mark.usefixtures("email_portal")
def test_a_sign_in_link_is_bound_to_the_browser_that_asked(
    app: Flask, server: str, mail: tuple[Inbox, str], directory: Directory, backend: str
) -> None:
    """Issue 12, finding 9, in a real browser: the asking browser signs in with one press,
    another browser after confirming on the link's page, an attacker's auto-posting page
    not at all."""
    inbox = mail[0]
    ARTIFACTS.mkdir(exist_ok=True)

    def ask(page) -> str:  # type: ignore[no-untyped-def]
        page.goto(f"{server}/portal/{NAME}/email")
        page.fill("input[name=email]", "ada@example.org")
        # The form's own button: once signed in, the page also has "Sign out".
        page.click("main button[type=submit]")
        page.wait_for_selector("text=If this address belongs to a member")
        run_jobs(app)  # the mail goes from a job (a worker on PostgreSQL)
        body = inbox.messages[-1].get_payload(decode=True).decode()
        return re.search(r"(http://127\.0\.0\.1:\d+/portal/\S+)", body).group(1)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            laptop = browser.new_context().new_page()
            link = ask(laptop)
            laptop.goto(link)
            assert "You are signing in as Ada" in laptop.inner_text("#signing-in-as")
            assert laptop.locator("#other-browser").count() == 0
            laptop.click("#sign-in")
            laptop.wait_for_url(f"{server}/me")

            link = ask(laptop)
            phone = browser.new_context().new_page()
            phone.goto(link)
            assert phone.locator("#other-browser").is_visible()
            phone.screenshot(path=str(ARTIFACTS / f"email-link-other-browser-{backend}.png"))
            phone.click("#sign-in")
            phone.wait_for_url(f"{server}/me")

            link = ask(laptop)
            victim = browser.new_context().new_page()
            victim.set_content(
                f'<form method="post" action="{link}"><input name="confirm" '
                f'value="{"x" * 32}"></form><script>document.forms[0].submit()</script>'
            )
            victim.wait_for_url(link)
            assert "asked for in another browser" in victim.content()
            victim.goto(f"{server}/me")
            assert "Welcome" not in victim.content()
        finally:
            browser.close()
