"""Accounts and the personal library in a real browser: registering, rating, the watchlist."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_movie
from tests.fixtures.accounts import PASSWORD

pytestmark = pytest.mark.e2e


def register(page, email="new.viewer@example.com", name="Nova"):
    page.goto("/auth/register")
    page.locator("#email").fill(email)
    page.locator("#display_name").fill(name)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".account")).to_contain_text(name)


def sign_in(page, email, password=PASSWORD):
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_register_rate_reload_watchlist_and_find_it_in_the_library(page, db):
    film = make_movie("Casablanca", popular_score=50, vote_average=8.5, vote_count=1000)
    make_movie("Vertigo", popular_score=40)
    register(page)

    page.goto(f"/movies/{film.id}")
    page.locator(f"label[for=rate-{film.id}-8]").click()
    expect(page.locator(f"#rating-{film.id} .rating-status")).to_have_text("Saved.")
    expect(page.locator("#aura-score")).to_contain_text("8.0")
    expect(page.locator("#aura-score")).to_contain_text("1 rating")

    page.reload()
    expect(page.locator(f"#rate-{film.id}-8")).to_be_checked()
    expect(page.locator(f"#rating-{film.id} .star-value")).to_have_text("8/10")

    page.goto("/")
    card = page.locator(".card", has_text="Vertigo").first
    card.get_by_role("button", name=re.compile("Watchlist")).click()
    expect(card.locator(".watch-toggle")).to_have_class(re.compile("is-on"))

    page.get_by_role("link", name="My library").click()
    expect(page.locator("#watchlist_cards .card")).to_have_count(1)
    expect(page.locator("#watchlist_cards")).to_contain_text("Vertigo")
    page.get_by_role("link", name="Ratings and reviews").click()
    expect(page.locator("#rating_items")).to_contain_text("Casablanca")
    expect(page.locator("#rating_items")).to_contain_text("8/10")
