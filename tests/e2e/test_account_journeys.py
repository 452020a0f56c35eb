"""Accounts and the personal library in a real browser: registering, rating, the watchlist."""

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_movie, make_user, watchlist_of

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


def test_anonymous_watchlist_click_signs_in_and_is_done_on_the_film(page, db):
    user = make_user(email="back@example.com", display_name="Returning")
    films = [
        make_movie(f"Row Film {number:02d}", popular_score=100 - number) for number in range(30)
    ]
    page.goto("/rows/popular")
    card = page.locator(".card", has_text="Row Film 03")
    card.get_by_role("button", name=re.compile("Watchlist")).click()
    expect(page).to_have_url(re.compile(rf"/auth/login\?next=/movies/{films[3].id}$"))
    expect(page.locator("#notices")).to_contain_text("Please sign in")
    sign_in(page, user.email)
    # Back on the film, with the film on the watchlist: nobody had to press + again.
    expect(page).to_have_url(re.compile(rf"/movies/{films[3].id}$"))
    expect(page.locator("#notices")).to_contain_text("Added Row Film 03 to your watchlist")
    expect(page.locator(".movie-actions .watch-toggle")).to_have_class(re.compile("is-on"))
    assert films[3].id in watchlist_of(user.id)
    page.reload()  # done once: nothing is waiting any more
    expect(page.locator(".after-sign-in")).to_have_count(0)


def test_anonymous_star_press_signs_in_and_saves_the_score(page, db):
    user = make_user(email="stars@example.com")
    film = make_movie("Starred Film")
    page.goto(f"/movies/{film.id}")
    page.locator(f"label[for=rate-{film.id}-7]").click()
    expect(page).to_have_url(re.compile(rf"/auth/login\?next=/movies/{film.id}$"))
    sign_in(page, user.email)
    expect(page).to_have_url(re.compile(rf"/movies/{film.id}$"))
    expect(page.locator("#notices")).to_contain_text("You rated Starred Film 7/10")
    expect(page.locator(f"#rate-{film.id}-7")).to_be_checked()


def test_rating_with_the_keyboard_and_writing_a_review(page, db):
    film = make_movie("Keyboard Film")
    user = make_user(email="keys@example.com")
    page.goto(f"/auth/login?next=/movies/{film.id}")
    sign_in(page, user.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Keyboard Film")
    five = page.get_by_role("radio", name="5 out of 10")
    five.focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # to 7
    expect(page.locator(f"#rating-{film.id} .star-value")).to_have_text("7/10")
    expect(page.get_by_role("radio", name="7 out of 10")).to_be_focused()  # focus survives the swap
    page.locator(f"#review-{film.id}").fill("Tense and <b>beautiful</b>.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(f"#rating-{film.id} .rating-status")).to_have_text("Saved.")
    page.reload()
    expect(page.get_by_role("radio", name="7 out of 10")).to_be_checked()
    expect(page.locator(f"#review-{film.id}")).to_have_value("Tense and <b>beautiful</b>.")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove rating").click()
    expect(page.locator(f"#rating-{film.id} .rating-status")).to_have_text("Rating removed.")
    expect(page.locator("#aura-score")).to_contain_text("No Aura ratings yet")


@pytest.fixture
def no_js_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_without_javascript_the_watchlist_and_rating_forms_still_work(no_js_page, db):
    film = make_movie("Plain Form Film", popular_score=10)
    user = make_user(email="plain@example.com", display_name="Plain")
    page = no_js_page
    page.goto(f"/movies/{film.id}")
    page.locator(".movie-actions").get_by_role("button", name=re.compile("Watchlist")).click()
    expect(page).to_have_url(re.compile(rf"/auth/login\?next=/movies/{film.id}"))
    sign_in(page, user.email)
    expect(page).to_have_url(re.compile(rf"/movies/{film.id}$"))

    page.locator(".movie-actions").get_by_role("button", name=re.compile("Watchlist")).click()
    expect(page.locator("#notices")).to_contain_text("Added to your watchlist.")
    expect(page.locator(".movie-actions .watch-toggle")).to_have_class(re.compile("is-on"))

    page.locator(f"label[for=rate-{film.id}-9]").click()
    page.get_by_role("button", name="Rate").click()
    expect(page.locator("#notices")).to_contain_text("Your rating is saved.")
    expect(page.locator("#aura-score")).to_contain_text("9.0")

    page.goto("/library")
    expect(page.locator("#watchlist_cards")).to_contain_text("Plain Form Film")


def test_turning_on_two_factor_and_signing_in_with_a_code(page, db):
    user = make_user(email="tfa@example.com", display_name="Tfa")
    page.goto("/auth/login?next=/auth/account")
    sign_in(page, user.email)
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.locator("img.totp-qr")).to_be_visible()
    secret = page.locator(".totp-secret").inner_text().replace(" ", "")
    page.locator("#totp-code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Save your recovery codes")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".account")).to_contain_text("Sign in")
    page.goto("/auth/login")
    sign_in(page, user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    page.locator("#code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".account")).to_contain_text("Tfa")


def test_swapping_a_form_with_an_inline_style_reports_no_csp_violation(page, db):
    """htmx copies settled attributes from the old element to the new one; copying ``style``
    is an inline style the CSP refuses. Browsers and extensions add inline styles to forms
    (autofill does), so a swap must not copy them."""
    make_user(email="style@example.com")
    page.goto("/auth/login")
    page.evaluate("document.getElementById('login_form').style.outline = '1px solid red'")
    page.locator("#email").fill("style@example.com")
    page.locator("#password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".form-error")).to_contain_text("do not match")
    # The page fixture fails the journey on any CSP report.
