"""Aura on a 390 px phone, its accessibility (axe-core) on every kind of page, and text contrast
measured on the rendered pixels."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from aura.services import captions
from tests.e2e.conftest import DESKTOP, PHONE, axe_problems, sign_in
from tests.e2e.pixels import text_contrast
from tests.factories import make_genre, make_movie, make_supervisor, make_user, store_video

pytestmark = pytest.mark.e2e

VTT = b"WEBVTT\n\n00:00:00.500 --> 00:00:09.000\nA clock and a field of colour.\n"


def test_phone_header_is_one_line_with_a_menu_and_the_search(phone, db):
    make_movie("Pocket Film", popular_score=3)
    sign_in(phone, make_user(email="pocket@example.com", display_name="Pocket").email)
    phone.goto("/")
    header = phone.locator(".site-header").bounding_box()
    assert header["height"] <= 0.1 * PHONE["height"], f"the header is {header['height']} px tall"
    expect(phone.locator("#header-q")).to_be_visible()
    nav = phone.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    phone.locator(".menu-button").click()
    expect(nav).to_be_visible()
    nav.get_by_role("link", name="Popular").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Popular")
    expect(nav).to_be_hidden()  # the new page starts with the menu closed
    phone.locator("#header-q").fill("pocket")
    expect(phone.locator("#results .card")).to_have_count(1)


def test_phone_film_page_fits_and_play_is_on_the_first_screen(phone, db, media_dir):
    drama, crime = make_genre("Drama"), make_genre("Crime")
    film = make_movie(
        "The Assassination of Jesse James by the Coward Robert Ford",
        genres=[drama, crime],
        certification="Not Rated",
        runtime=160,
        vote_average=7.5,
        vote_count=150_000,
        tagline="A very long tagline " * 6,
        overview="Words " * 200,
    )
    store_video(title="Reel", movie=film)
    sign_in(phone, make_user(email="phone@example.com").email)
    phone.goto(f"/movies/{film.id}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    play = phone.get_by_role("link", name=re.compile("Play")).bounding_box()
    assert play["y"] + play["height"] <= PHONE["height"], (
        f"Play ends at {play['y'] + play['height']}"
    )
    for star in phone.locator(f"#rating-{film.id} .star").all():
        box = star.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box


def test_phone_supervisor_table_becomes_cards(phone, db, media_dir):
    film = make_movie("A Film With An Unusually Long Title For Its Card")
    store_video(title="An upload whose title goes on and on for a while", movie=film)
    sign_in(phone, make_supervisor(email="boss.phone@example.com").email)
    phone.goto("/supervisor/videos")
    row = phone.locator("#video-rows tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    label = row.locator("td[data-label=Film]").evaluate(
        "c => getComputedStyle(c, '::before').content"
    )
    assert label == '"Film"'
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for cell in row.locator("td").all():
        assert cell.evaluate("c => c.scrollWidth <= c.clientWidth + 1"), cell.inner_text()
    delete = row.get_by_role("button", name=re.compile("Delete")).bounding_box()
    assert delete["x"] >= 0 and delete["x"] + delete["width"] <= PHONE["width"]


def test_phone_two_factor_set_up_brings_the_qr_code_into_view(phone, db):
    sign_in(phone, make_user(email="qr@example.com").email)
    phone.goto("/auth/account")
    phone.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(phone.locator("img.totp-qr")).to_be_in_viewport()


def test_where_you_are_signed_in_names_browsers_and_marks_this_one(page, db):
    sign_in(page, make_user(email="names@example.com").email)
    page.goto("/auth/account")
    sessions = page.locator(".session-list li")
    expect(sessions.first).to_contain_text("Chrome on Linux")
    expect(sessions.first).to_contain_text("This browser")
    expect(page.locator(".session-list")).not_to_contain_text("Mozilla/5.0")


def test_rating_control_sits_below_play_and_says_what_it_is(page, db, media_dir):
    film = make_movie("Certified Film", certification="Not Rated")
    store_video(title="Certified reel", movie=film)
    sign_in(page, make_user(email="stars.place@example.com").email)
    page.goto(f"/movies/{film.id}")
    actions = page.locator(".movie-actions").bounding_box()
    rating = page.locator(f"#rating-{film.id}").bounding_box()
    assert rating["y"] >= actions["y"] + actions["height"]
    expect(page.locator(".cert")).to_have_text(re.compile("Unrated"))
    expect(page.locator(f"#rating-{film.id} .star-value")).to_have_text("No score yet")
    expect(page.locator("main")).not_to_contain_text("Not rated")
    star = text_contrast(page.locator(f"label[for=rate-{film.id}-10]"))
    assert star >= 3, f"an unselected star has {star:.2f}:1"


CONTRAST_PLACES = {
    "/": [".hero .lede", ".card-meta", ".see-all", ".site-footer p"],
    "film": [".score-label", ".facts dt", ".facts-line .cert", ".star-value", ".tagline"],
}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_text_contrast_on_the_rendered_pixels(browser, live_server, db, viewport):
    from tests.e2e.conftest import new_page

    errors: list[str] = []
    page = new_page(browser, live_server, errors, viewport=viewport)
    films = [
        make_movie(f"Contrast Film {n}", popular_score=50 - n, vote_average=7.1) for n in range(20)
    ]
    film = make_movie(
        "Measured Film",
        certification="PG-13",
        tagline="Words over a gradient.",
        vote_average=7.4,
        vote_count=900,
    )
    measured = {}
    page.goto("/")
    for selector in CONTRAST_PLACES["/"]:
        measured[selector] = text_contrast(page.locator(selector).first)
    page.goto(f"/movies/{film.id}")
    for selector in CONTRAST_PLACES["film"]:
        measured[selector] = text_contrast(page.locator(selector).first)
    # The header's links over the page's text scrolled beneath it.
    page.goto("/rows/popular")
    page.mouse.wheel(0, 500)
    page.wait_for_function("() => window.scrollY >= 400")
    link = (
        page.locator(".site-nav a").first if viewport is DESKTOP else page.locator(".menu-button")
    )
    measured["header over text"] = text_contrast(link)
    print({key: round(value, 2) for key, value in measured.items()})
    low = {key: round(value, 2) for key, value in measured.items() if value < 4.5}
    assert not low, f"text under 4.5:1: {low}"
    page.context.close()
    assert errors == [] and films


def test_axe_finds_no_serious_problem_on_any_kind_of_page(page, db, media_dir):
    boss = make_supervisor(email="axe@example.com")
    film = make_movie("Accessible Film", popular_score=9, genres=[make_genre("Drama")])
    for n in range(8):
        make_movie(f"Row Film {n}", popular_score=8 - n, trending_score=1 + n)
    video = store_video(
        title="Accessible reel", movie=film, description="Line one.\n\nSee https://example.com."
    )
    captions.add_caption(video.id, VTT, "en")
    page.goto("/")
    pages = {"home (signed out)": axe_problems(page)}
    sign_in(page, boss.email)
    for name, path in {
        "home": "/",
        "search": "/search?q=film",
        "film": f"/movies/{film.id}",
        "library": "/library",
        "library ratings": "/library?show=ratings",
        "library diary": "/library?show=diary",
        "player": f"/watch/{video.id}",
        "account": "/auth/account",
        "supervisor videos": "/supervisor/videos",
        "supervisor edit": f"/supervisor/videos/{video.id}/edit",
        "supervisor dashboard": "/supervisor/",
        "view log": "/supervisor/views",
        "film statistics": f"/supervisor/stats/movies/{film.id}",
        "supervisor films": "/supervisor/movies",
        "supervisor reviews": "/supervisor/reviews",
        "supervisor users": "/supervisor/users",
        "audit log": "/supervisor/audit",
        "backups": "/supervisor/backups",
    }.items():
        page.goto(path)
        if name == "player":
            page.wait_for_function("() => document.querySelector('#player track').readyState >= 1")
        pages[name] = axe_problems(page)
    page.set_viewport_size(PHONE)
    page.goto("/")
    page.locator(".menu-button").click()
    pages["home (phone, menu open)"] = axe_problems(page)
    found = {name: problems for name, problems in pages.items() if problems}
    assert not found, found
    # The check itself sees problems: a picture without words is one.
    page.evaluate("document.querySelector('main').append(document.createElement('img'))")
    assert any(problem.startswith("image-alt") for problem in axe_problems(page))
