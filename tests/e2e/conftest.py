"""Browser journeys: Playwright driving Debian's Chromium against a real waitress server.

The server runs Aura on a free loopback port in a background thread, on the same database the
test's factories write to. Chromium starts headless with the flags that keep it off the network.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator

import pytest

from tests.conftest import need_service
from tests.factories import BROWSER_UA

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
    "--no-default-browser-check",
]


def chromium_path() -> str | None:
    for candidate in (
        os.environ.get("AURA_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


class LiveServer:
    def __init__(self, app, threads: int = 4) -> None:
        from waitress.server import create_server

        self.server = create_server(
            app,
            host="127.0.0.1",
            port=0,
            threads=threads,
            ident="Aura-test",
            max_request_body_size=app.config["MAX_CONTENT_LENGTH"],
        )
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[LiveServer]:
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    executable = chromium_path()
    if executable is None:
        need_service("Debian chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need_service("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


# Every CSP violation is reported to the console, however the browser would word it.
REPORT_CSP = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " at " + event.sourceFile + ":"
                + event.lineNumber + " " + (event.sample || event.blockedURI));
});
"""
# The browser logs every 4xx answer to a fetch as a console error. A form refused with 422 or a
# 429 with a message is an answer the journey asked for, not a broken page; 5xx never is.
_CLIENT_ERROR_STATUS = re.compile(
    r"^Failed to load resource: the server responded with a status of 4\d\d "
)


def _is_error(message) -> bool:
    return message.type == "error" and not _CLIENT_ERROR_STATUS.match(message.text)


def new_page(browser, live_server, errors: list[str], **options):
    """A page in a fresh context whose script errors and CSP reports land in ``errors``."""
    options.setdefault("viewport", {"width": 1280, "height": 900})
    # Headless Chromium says so in its user agent, and Aura does not count programs.
    options.setdefault("user_agent", BROWSER_UA)
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(10_000)
    context.add_init_script(REPORT_CSP)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if _is_error(msg) else None)
    return page


@pytest.fixture
def page(browser, live_server) -> Iterator:
    errors: list[str] = []
    page = new_page(browser, live_server, errors)
    yield page
    page.context.close()
    # A page that broke its own scripts or CSP failed the journey, whatever it showed.
    assert errors == [], f"browser errors: {errors}"


DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server) -> Iterator:
    """A page 390 by 844 CSS pixels, with a phone's touch screen."""
    errors: list[str] = []
    page = new_page(browser, live_server, errors, viewport=PHONE, has_touch=True, is_mobile=True)
    yield page
    page.context.close()
    assert errors == [], f"browser errors: {errors}"


def sign_in(page, email: str, password: str | None = None) -> None:
    """Sign in through the real form and wait until the header says so."""
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    page.goto("/auth/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password or PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account")).to_contain_text("Sign out")


def _axe_source() -> str:
    import axe_playwright_python

    path = os.path.join(os.path.dirname(axe_playwright_python.__file__), "axe.min.js")
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def axe_problems(page) -> list[str]:
    """axe-core's critical and serious violations on the page, and any landmark-unique one.

    The page's CSP allows no inline script, so axe is evaluated through the DevTools protocol
    (Playwright's evaluate), which the CSP does not govern."""
    page.evaluate(_axe_source())
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{item['id']} ({item['impact']}): {[node['target'] for node in item['nodes']][:3]}"
        for item in results["violations"]
        if item["impact"] in ("critical", "serious") or item["id"] == "landmark-unique"
    ]
