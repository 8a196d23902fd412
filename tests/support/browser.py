"""Real-browser testing: the app on a loopback port, driven by Debian's headless Chromium.

Playwright drives Chromium through its own driver; the browser binary is Debian's
(``/usr/bin/chromium``, which ``scripts/system-packages`` installs), never a download.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from lti_tool.config import apply_base_url

CHROMIUM = "/usr/bin/chromium"
# Flags for a closed network and a root user: no sandbox, no calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields its base URL.

    The served address becomes the app's ``TANDEM_BASE_URL`` (and so its one trusted
    host), as an operator would configure it.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    apply_base_url(app.config, url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def chromium_page() -> Iterator[object]:
    """A fresh page in a fresh headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            yield context.new_page()
        finally:
            browser.close()


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot under tests/artifacts/ for a reader to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def demo_app(app_config: dict) -> Flask:
    """The app as ``tandem demo`` runs it (the Demo LMS on), with the suite's keys."""
    from lti_tool.app import create_app
    from tests.conftest import TEST_ENCRYPTION_KEY, TEST_SECRET_KEY

    return create_app(
        {
            **app_config,
            "TESTING": False,
            "TANDEM_DEMO": True,
            "SECRET_KEY": TEST_SECRET_KEY,
            "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        }
    )
