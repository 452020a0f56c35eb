"""A viewer browsing the catalog in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_movie

pytestmark = pytest.mark.e2e


def test_scrolling_a_row_loads_the_next_page(page, db):
    for number in range(60):
        make_movie(f"Scroll Film {number:02d}", popular_score=1000 - number)
    page.goto("/rows/popular")
    cards = page.locator("#cards .card")
    expect(cards).to_have_count(24)
    page.locator(".sentinel").scroll_into_view_if_needed()
    expect(cards).to_have_count(48)
    page.locator(".sentinel").scroll_into_view_if_needed()
    expect(cards).to_have_count(60)
    expect(page.locator(".sentinel")).to_have_count(0)
    expect(page.locator("#cards .card").last).to_contain_text("Scroll Film 59")


def test_typing_a_search_swaps_in_results(page, db):
    make_movie("The Grand Budapest Hotel", director="Wes Anderson")
    make_movie("Moonrise Kingdom", director="Wes Anderson")
    make_movie("Heat", director="Michael Mann")
    page.goto("/search")
    page.locator("#q").fill("anderson")
    results = page.locator("#results .card")
    expect(results).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/search\?q=anderson"))
    page.locator("#q").fill("heat")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Heat")


def test_opening_a_film_shows_its_page(page, db):
    make_movie("Casablanca", director="Michael Curtiz", runtime=102, popular_score=50)
    page.goto("/")
    page.get_by_role("link", name=re.compile("Casablanca")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Casablanca")
    expect(page.locator(".facts")).to_contain_text("Michael Curtiz")
    expect(page).to_have_title(re.compile("Casablanca"))


@pytest.fixture
def no_js_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_without_javascript_next_page_links_and_search_still_work(no_js_page, db):
    for number in range(30):
        make_movie(f"Plain Film {number:02d}", popular_score=1000 - number)
    page = no_js_page
    page.goto("/rows/popular")
    expect(page.locator("#cards .card")).to_have_count(24)
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"/rows/popular\?after="))
    expect(page.locator("#cards .card")).to_have_count(6)
    expect(page.locator("#cards")).to_contain_text("Plain Film 29")

    page.goto("/search")
    page.locator("#q").fill("plain film 07")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=plain"))
    expect(page.locator("#results .card").first).to_contain_text("Plain Film 07")


def test_boosted_navigation_swaps_the_page_without_a_reload(page, db):
    make_movie("Boosted Film", popular_score=5)
    page.goto("/")
    page.evaluate("window.__stillHere = true")
    page.get_by_role("link", name="Popular", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Popular")
    assert page.evaluate("window.__stillHere") is True  # same document: htmx swapped the body


def test_every_image_has_alt_text_and_focus_is_visible(page, db):
    make_movie("Alt Film", popular_score=5)
    page.goto("/")
    assert page.locator("img:not([alt])").count() == 0
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Tab")
    focused = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    assert focused != "none"


def test_a_trailer_loads_only_when_asked_for(page, app, db, monkeypatch):
    """With TMDB configured, a film's checked trailer is a still with a play button; the
    no-cookie player loads in its place on click, within the CSP."""
    from datetime import UTC, datetime

    from tests.factories import PNG_BYTES

    monkeypatch.setitem(app.config, "TMDB_API_KEY", "configured-for-this-journey")
    monkeypatch.setitem(app.config, "TMDB_API_BASE", "http://127.0.0.1:9/3")  # never asked
    film = make_movie(
        "Trailer Film",
        tmdb_id=550,
        trailer_key="BdJKm16Co6M",
        trailer_embeddable=True,
        trailer_checked_at=datetime.now(UTC),
    )
    asked: list[str] = []
    page.route(
        "https://i.ytimg.com/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PNG_BYTES),
    )
    page.route(
        "https://www.youtube-nocookie.com/**",
        lambda route: (
            asked.append(route.request.url),
            route.fulfill(
                status=200, content_type="text/html", body="<!doctype html><title>player</title>"
            ),
        ),
    )
    page.goto(f"/movies/{film.id}")
    start = page.locator(".trailer-start")
    expect(start).to_contain_text("Play the trailer")
    assert asked == [] and page.locator(".trailer iframe").count() == 0
    start.click()
    frame = page.locator(".trailer iframe")
    expect(frame).to_have_attribute(
        "src", re.compile(r"^https://www\.youtube-nocookie\.com/embed/BdJKm16Co6M")
    )
    page.wait_for_function("() => document.querySelector('.trailer iframe') !== null")
    expect(page.frame_locator(".trailer iframe").locator("title")).to_have_count(1)
    assert asked and asked[0].startswith("https://www.youtube-nocookie.com/embed/BdJKm16Co6M")
