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
