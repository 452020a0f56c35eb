"""The supervisor's dashboard in a real browser: the live block follows the site's traffic
without a reload, and rests while the tab is hidden."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import new_page
from tests.factories import PASSWORD, make_movie, make_supervisor

pytestmark = pytest.mark.e2e

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
POLL_WAIT = 30_000  # ms: a generous bound for the next polls, not a speed requirement


def sign_in(page, email: str) -> None:
    page.goto("/auth/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account")).to_contain_text("Sign out")


def figure(page, card: str):
    return page.locator(f"#stat-{card} .stat-value")


def test_the_live_block_follows_views_from_other_browsers(page, browser, live_server, db):
    film = make_movie("Night of the Living Dead")
    boss = make_supervisor(email="boss@example.com")
    sign_in(page, boss.email)
    page.get_by_role("link", name="Supervisor").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(figure(page, "views")).to_have_text("0")
    page.evaluate("() => { window.sameDocument = true; }")

    # One visitor opens the film three times; another (another browser) once.
    errors: list[str] = []
    visitors = [
        new_page(browser, live_server, errors),
        new_page(browser, live_server, errors, user_agent=FIREFOX),
    ]
    for visitor, times in zip(visitors, (3, 1), strict=True):
        for _ in range(times):
            visitor.goto(f"/movies/{film.id}")
            expect(visitor.get_by_role("heading", name="Night of the Living Dead")).to_be_visible()

    expect(figure(page, "views")).to_have_text("4", timeout=POLL_WAIT)
    expect(figure(page, "visitors")).to_have_text("2", timeout=POLL_WAIT)
    assert page.evaluate("() => window.sameDocument === true"), "the page was reloaded"
    for visitor in visitors:
        visitor.context.close()
    assert errors == [], f"browser errors: {errors}"


SET_HIDDEN = """hidden => {
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
  Object.defineProperty(document, 'visibilityState',
                        {configurable: true, get: () => hidden ? 'hidden' : 'visible'});
  document.dispatchEvent(new Event('visibilitychange'));
}"""
# Every request the block starts: what triggered it, and whether app.js cancelled it.
WATCH_POLLS = """() => {
  window.polls = [];
  document.addEventListener('htmx:beforeRequest', event => {
    const trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    window.polls.push({trigger: trigger ? trigger.type : 'every',
                       cancelled: event.defaultPrevented});
  });
}"""


def test_the_live_block_rests_while_the_tab_is_hidden(page, live_server, db):
    boss = make_supervisor(email="boss@example.com")
    sign_in(page, boss.email)
    page.goto("/supervisor/")
    sent: list[str] = []
    page.on(
        "request",
        lambda request: (
            sent.append(request.url)
            if request.headers.get("hx-request") and request.url.endswith("/supervisor/")
            else None
        ),
    )
    page.evaluate(WATCH_POLLS)
    page.wait_for_function("() => window.polls.some(p => !p.cancelled)", timeout=POLL_WAIT)

    # The tab is hidden (as a browser tells a page): polls are cancelled, nothing goes out.
    page.evaluate(SET_HIDDEN, True)
    page.evaluate("() => { window.polls = []; }")
    sent_before = len(sent)
    page.wait_for_function("() => window.polls.length >= 2", timeout=POLL_WAIT)
    assert all(poll["cancelled"] for poll in page.evaluate("() => window.polls"))
    assert len(sent) == sent_before, "the block polled while the tab was hidden"

    # Shown again: refreshed at once by the visibility event, and polling goes on.
    with page.expect_request(
        lambda request: request.url.endswith("/supervisor/"), timeout=POLL_WAIT
    ):
        page.evaluate(SET_HIDDEN, False)
    polls = page.evaluate("() => window.polls")
    assert {"trigger": "aura:refresh", "cancelled": False} in polls
    expect(page.locator("#stats")).to_be_visible()
