"""The video library in a real browser: from the navigation to a locked video on the second
page, its password, the player and "Up next"; live search and sorting; axe-core's checks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from aura.models import utcnow
from tests.e2e.test_streaming_journeys import start_playing, wait_until_playing
from tests.factories import VIDEO_PASSWORD, make_movie, make_video_row, store_video

pytestmark = pytest.mark.e2e

NOW = utcnow().replace(microsecond=0)
PAGE_SIZE = 24


def assert_accessible(page) -> None:
    """axe-core finds nothing critical or serious on the page as it stands.

    axe is evaluated in the page by Playwright (the page's CSP forbids injected script tags)."""
    results = Axe().run(page)
    bad = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(node["target"][0] for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in ("critical", "serious")
    ]
    assert bad == [], "\n".join(bad)


@pytest.fixture
def library(db, media_dir):
    """More than a page of videos; a locked one and the one after it sit on the second page."""
    film = make_movie("Casablanca", popular_score=50)
    for number in range(PAGE_SIZE + 1):
        make_video_row(
            title=f"Clip {number:02d}",
            movie=film if number % 3 == 0 else None,
            uploaded_at=NOW - timedelta(minutes=number),
            duration_seconds=60.0 + number,
            view_count=number,
        )
    locked = store_video(
        title="Locked premiere",
        password=VIDEO_PASSWORD,
        uploaded_at=NOW - timedelta(hours=1),
        duration_seconds=30.0,
    )
    encore = store_video(title="Encore", uploaded_at=NOW - timedelta(hours=2))
    return {"locked": locked, "encore": encore}


def test_a_viewer_finds_a_locked_video_unlocks_it_plays_it_and_follows_up_next(page, library):
    locked, encore = library["locked"], library["encore"]
    page.goto("/")
    page.locator(".site-nav").get_by_role("link", name="Videos", exact=True).click()
    expect(page).to_have_url(re.compile(r"/videos$"))
    cards = page.locator("#videos .video-card")
    expect(cards).to_have_count(PAGE_SIZE)
    expect(page.get_by_text("Locked premiere")).to_have_count(0)
    assert_accessible(page)

    # Scrolling to the end asks for the second page, which replaces the sentinel.
    page.locator("#videos .sentinel").scroll_into_view_if_needed()
    expect(cards).to_have_count(PAGE_SIZE + 3)
    expect(page.locator("#videos .sentinel")).to_have_count(0)
    card = cards.filter(has_text="Locked premiere")
    expect(card.locator(".lock-badge")).to_be_visible()
    expect(card.locator(".video-duration")).to_have_text(re.compile(r"0:30$"))
    assert_accessible(page)

    card.get_by_role("link", name=re.compile("Locked premiere")).click()
    expect(page.get_by_role("heading", name="Locked premiere")).to_be_visible()
    page.get_by_label("Password").fill(VIDEO_PASSWORD)
    page.get_by_role("button", name="Unlock").click()
    expect(page).to_have_url(re.compile(f"/watch/{locked.id}$"))
    start_playing(page)
    wait_until_playing(page, 0.3)
    page.evaluate("() => document.querySelector('#player').pause()")

    page.get_by_role("link", name=re.compile("Up next")).click()
    expect(page).to_have_url(re.compile(f"/watch/{encore.id}$"))
    expect(page.get_by_role("heading", name="Encore")).to_be_visible()
    start_playing(page)
    wait_until_playing(page, 0.3)
    page.evaluate("() => document.querySelector('#player').pause()")
    # The last video has nothing up next, and leads back to the list.
    expect(page.locator(".up-next")).to_have_count(0)
    page.get_by_role("link", name="All videos").click()
    expect(page).to_have_url(re.compile(r"/videos$"))


def test_live_search_sort_and_filter(page, library):
    page.goto("/videos")
    page.get_by_label("Search videos by title or description").fill("encore")
    expect(page).to_have_url(re.compile(r"/videos\?q=encore"))
    expect(page.locator("#videos .card-title")).to_have_text(["Encore"])
    page.get_by_label("Search videos by title or description").fill("")
    page.get_by_label("Show").select_option("locked")
    expect(page).to_have_url(re.compile(r"show=locked"))
    expect(page.locator("#videos .card-title")).to_have_text(["Locked premiere"])
    page.get_by_label("Show").select_option("all")
    page.get_by_label("Sort by").select_option("views")
    expect(page).to_have_url(re.compile(r"sort=views"))
    expect(page.locator("#videos .card-title").first).to_have_text("Clip 24")
    page.get_by_label("Search videos by title or description").fill("%")
    expect(page.locator("#videos .empty")).to_contain_text("No videos match “%”")
    assert_accessible(page)
    # Reloading the pushed address shows the same list.
    page.reload()
    expect(page.locator("#videos .empty")).to_contain_text("No videos match “%”")
    expect(page.get_by_label("Sort by")).to_have_value("views")


def test_the_list_without_javascript(browser, live_server, library):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/videos")
        expect(page.locator("#videos .video-card")).to_have_count(PAGE_SIZE)
        page.get_by_role("link", name="Next page").click()
        expect(page).to_have_url(re.compile(r"/videos\?after="))
        expect(page.locator("#videos .card-title")).to_have_text(
            ["Clip 24", "Locked premiere", "Encore"]
        )
        page.get_by_label("Search videos by title or description").fill("premiere")
        page.get_by_role("button", name="Search").click()
        expect(page).to_have_url(re.compile(r"q=premiere"))
        expect(page.locator("#videos .card-title")).to_have_text(["Locked premiere"])
    finally:
        context.close()
