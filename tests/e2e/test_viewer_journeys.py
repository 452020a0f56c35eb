"""What a new viewer notices in the first five minutes: the keyboard in rows, focus across
swaps, Back after scrolling, search history, the home page's rows and posters, the library."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from playwright.sync_api import expect

from aura.extensions import db as _db
from aura.models import PlaybackProgress
from aura.services import library, scores
from tests.e2e.conftest import DESKTOP, sign_in
from tests.factories import make_movie, make_user, store_video

pytestmark = pytest.mark.e2e


def test_tab_crosses_a_row_in_one_stop_and_arrows_move_inside(page, db):
    for n in range(40):
        make_movie(f"Key Film {n:02d}", popular_score=100 - n, trending_score=50 - n)
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    trending = page.locator("#strip-trending .card")
    expect(trending).to_have_count(18)
    presses = 0
    while presses < 20 and not page.evaluate("!!document.activeElement.closest('#strip-popular')"):
        page.keyboard.press("Tab")
        presses += 1
    assert page.evaluate("!!document.activeElement.closest('#strip-popular')"), "never left row 1"
    # The skip link, the brand, four navigation links, the header search, Sign in and Join,
    # the hero's search and its button, then each row's "See all" and its one stop: 15.
    assert presses <= 15, f"{presses} Tabs to reach the second row"
    expect(trending).to_have_count(18)  # crossing the row loaded nothing and kept nothing
    first = page.locator("#strip-popular .card-link").nth(0)
    expect(first).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#strip-popular .card-link").nth(1)).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(first).to_be_focused()
    page.keyboard.press("Shift+Tab")  # one stop back leaves the row, to its header's link
    expect(page.locator("#row-popular ~ .see-all, .strip-header .see-all").nth(1)).to_be_focused()


def test_enter_on_the_watchlist_toggle_keeps_the_focus_there(page, db):
    film = make_movie("Focus Film")
    sign_in(page, make_user(email="focus@example.com").email)
    page.goto(f"/movies/{film.id}")
    toggle = page.locator(".movie-actions .watch-toggle")
    page.locator(".movie-actions .watch-button").focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_class(re.compile("is-on"))
    expect(page.locator(".movie-actions .watch-button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(toggle).not_to_have_class(re.compile("is-on"))
    expect(page.locator(".movie-actions .watch-button")).to_be_focused()


def test_the_main_navigation_marks_the_current_page(page, db):
    make_movie("Marked Film", popular_score=3)
    page.goto("/rows/popular")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Popular")).to_have_attribute("aria-current", "page")
    expect(nav.locator("[aria-current]")).to_have_count(1)
    nav.get_by_role("link", name="Top rated").click()
    expect(nav.get_by_role("link", name="Top rated")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Popular")).not_to_have_attribute("aria-current", "page")


def test_back_after_infinite_scroll_comes_back_to_the_same_cards_and_place(page, db):
    for n in range(100):
        make_movie(f"Deep Film {n:03d}", popular_score=1000 - n)
    page.set_viewport_size(DESKTOP)
    page.goto("/rows/popular")
    cards = page.locator("#cards .card")
    for shown in (48, 72):
        page.locator(".sentinel").scroll_into_view_if_needed()
        expect(cards).to_have_count(shown)
    expect(page).to_have_url(re.compile(r"/rows/popular\?until="))
    chosen = page.locator("#cards .card", has_text="Deep Film 060")
    chosen.scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    assert before > 2000
    chosen.locator(".card-link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Deep Film 060")
    page.go_back()
    expect(page.locator("#cards .card", has_text="Deep Film 071")).to_have_count(1)
    expect(chosen).to_be_in_viewport()
    assert abs(page.evaluate("window.scrollY") - before) < 40
    assert cards.count() >= 72


def test_typing_a_search_keeps_one_history_entry_and_names_the_tab(page, db):
    make_movie("Heat", popular_score=5)
    make_movie("Heist", popular_score=4)
    page.goto("/")
    page.goto("/search")
    entries = page.evaluate("history.length")
    page.locator("#q").fill("heat")
    expect(page.locator("#results .card")).to_have_count(1)
    expect(page).to_have_title(re.compile("“heat”"))
    page.locator("#q").fill("heist")
    expect(page.locator("#results")).to_contain_text("Heist")
    expect(page).to_have_url(re.compile(r"/search\?q=heist$"))
    expect(page).to_have_title(re.compile("“heist”"))
    assert page.evaluate("history.length") == entries
    page.go_back()
    expect(page).to_have_url(re.compile(r"/$"))


def test_typing_in_the_header_search_shows_results_on_any_page(page, db):
    film = make_movie("Casablanca", popular_score=5)
    make_movie("The Heist Job", popular_score=4)
    page.goto(f"/movies/{film.id}")
    page.locator("#header-q").fill("heist")
    expect(page.locator("#results .card")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("The Heist Job")
    expect(page).to_have_url(re.compile(r"/search\?q=heist$"))
    expect(page.locator("#header-q")).to_be_focused()  # still typing where they were
    page.go_back()  # one entry for the search: Back is the film again
    expect(page.get_by_role("heading", level=1)).to_contain_text("Casablanca")


@pytest.fixture
def no_js_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_without_javascript_page_two_says_so_and_the_header_search_submits(no_js_page, db):
    for number in range(30):
        make_movie(f"Plain Film {number:02d}", popular_score=1000 - number)
    page = no_js_page
    page.goto("/rows/popular")
    expect(page.get_by_role("heading", level=1)).to_have_text("Popular")
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Popular · page 2")
    page.get_by_role("link", name=re.compile("Back to the first page")).click()
    expect(page).to_have_url(re.compile(r"/rows/popular$"))
    expect(page.locator("#cards")).to_contain_text("Plain Film 00")
    page.locator("#header-q").fill("plain film 07")
    page.locator("#header-q").press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=plain"))


def test_signed_in_home_starts_with_continue_watching_and_shows_titles_whole(page, db, media_dir):
    film = make_movie("The Film Whose Title Runs On", popular_score=5)
    video = store_video(title="The director's extended cut, with the long title", movie=film)
    user = make_user(email="home@example.com")
    _db.session.add(
        PlaybackProgress(
            user_id=user.id, video_id=video.id, position_seconds=9, duration_seconds=30
        )
    )
    _db.session.commit()
    page.goto("/")
    expect(page.locator(".hero")).to_be_visible()  # a first visit gets the welcome
    sign_in(page, user.email)
    page.goto("/")
    expect(page.locator(".hero")).to_have_count(0)
    expect(page.locator("main section").first).to_have_attribute("aria-labelledby", "row-continue")
    title = page.locator(".resume-card .card-title")
    expect(title).to_have_text("The director's extended cut, with the long title")
    assert title.evaluate(
        "e => e.scrollHeight <= e.clientHeight + 1 && e.scrollWidth <= e.clientWidth + 1"
    )
    frame = page.locator(".resume-thumb").bounding_box()
    poster = page.locator(".resume-thumb img").bounding_box()
    assert (
        poster["y"] >= frame["y"] - 1
        and poster["y"] + poster["height"] <= frame["y"] + frame["height"] + 1
    )
    assert poster["height"] / poster["width"] == pytest.approx(1.5, rel=0.02)  # whole, not cut


def test_rows_show_there_is_more_and_scroll_with_their_buttons(page, db):
    for n in range(30):
        make_movie(f"Strip Film {n:02d}", popular_score=100 - n)
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    strip = page.locator("#strip-popular")
    prev = page.locator(".strip-prev[aria-controls=strip-popular]")
    next_ = page.locator(".strip-next[aria-controls=strip-popular]")
    expect(prev).to_be_hidden()
    expect(next_).to_be_visible()
    cut = strip.evaluate(
        "s => { const r = s.getBoundingClientRect().right;"
        " return [...s.querySelectorAll('.card')].some(c => { const b = c.getBoundingClientRect();"
        " return b.left < r - 20 && b.right > r + 20; }); }"
    )
    assert cut, "no card is partly in view at the strip's edge"
    next_.click()
    page.wait_for_function("() => document.querySelector('#strip-popular').scrollLeft > 300")
    expect(prev).to_be_visible()
    strip.evaluate("s => s.scrollTo({left: s.scrollWidth})")  # the rest loads...
    expect(page.locator("#strip-popular .card")).to_have_count(30)
    strip.evaluate("s => s.scrollTo({left: s.scrollWidth})")  # ...and then there is no more
    expect(next_).to_be_hidden()


def test_a_fresh_site_has_no_trending_copy_of_popular(page, db):
    films = [make_movie(f"Fresh Film {n}", popular_score=100 - n) for n in range(12)]
    page.goto("/")
    expect(page.get_by_role("heading", name="Popular")).to_be_visible()
    expect(page.get_by_role("heading", name="Trending now")).to_have_count(0)
    page.goto(f"/movies/{films[7].id}")  # a visitor opens one film
    scores.refresh()
    page.goto("/")
    trending = page.locator("#strip-trending .card")
    expect(trending).to_have_count(1)
    expect(trending.first).to_contain_text("Fresh Film 7")
    expect(page.locator("#strip-popular .card").first).to_contain_text("Fresh Film 0")


def test_generated_posters_carry_the_title_once_and_differ_by_era(page, db):
    old = make_movie("Casablanca", director="Michael Curtiz", popular_score=9)
    old.release_date = old.release_date.replace(year=1942)
    new = make_movie("Jaws", director="Steven Spielberg", popular_score=8)
    new.release_date = new.release_date.replace(year=1975)
    _db.session.commit()
    page.goto("/rows/popular")
    motifs = []
    for title in ("Casablanca", "Jaws"):
        card = page.locator("#cards .card", has_text=title)
        poster = card.locator("img.poster")
        svg = ET.fromstring(page.request.get(poster.get_attribute("src")).text())
        motifs.append(svg.get("data-motif"))
        words = [
            text
            for text in svg.iter("{http://www.w3.org/2000/svg}text")
            if text.findall("{*}tspan")
        ]
        on_poster = float(words[0].get("font-size")) * poster.bounding_box()["width"] / 300
        under = card.locator(".card-title").evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)"
        )
        assert on_poster < 0.8 * under, (
            f"{title}: {on_poster:.1f}px on the poster, {under}px under it"
        )
        expect(poster).to_have_attribute("alt", "")  # the link's words say the title once
    assert motifs[0] != motifs[1]


def test_ratings_tab_shows_posters_scores_dates_and_edits_in_place(page, db):
    user = make_user(email="critic@example.com")
    films = [make_movie(title) for title in ("Amarcord", "Brazil", "Chinatown")]
    for film, score in zip(films, (6, 9, 3), strict=True):
        library.rate(user.id, film.id, score, f"Thoughts on {film.title}. " + "More words. " * 40)
    library.set_watchlist(user.id, films[1].id, on=True)
    sign_in(page, user.email)
    page.goto("/library")
    expect(page.locator("#watchlist_cards .card", has_text="Brazil")).to_contain_text(
        "Your rating ★ 9"
    )
    page.goto("/library?show=ratings")
    items = page.locator("#rating_items .my-rating")
    expect(items).to_have_count(3)
    first = items.first
    expect(first.locator("img.my-rating-poster")).to_be_visible()
    expect(first.locator("time")).to_have_text(re.compile(r"\d{1,2} \w{3} \d{4}"))
    expect(first.locator(".review-excerpt")).to_have_text(re.compile("…$"))
    page.get_by_role("link", name="Your score").click()
    expect(items.first).to_contain_text("Brazil")
    expect(items.first).to_contain_text("9/10")
    page.get_by_role("link", name="Title").click()
    expect(items.first).to_contain_text("Amarcord")
    items.first.get_by_role("link", name=re.compile("Edit")).click()
    panel = page.locator(f"#rating-{films[0].id}")
    expect(panel.get_by_role("radio", name="6 out of 10")).to_be_checked()
    panel.locator(f"label[for=rate-{films[0].id}-8]").click()
    panel.get_by_role("button", name="Save").click()
    expect(page.locator(f"#my-rating-{films[0].id}")).to_contain_text("8/10")
    expect(page).to_have_url(re.compile(r"show=ratings"))


def test_continue_watching_has_its_own_tab_apart_from_the_watchlist(page, db, media_dir):
    film = make_movie("Half Seen")
    video = store_video(title="Half Seen reel", movie=film)
    user = make_user(email="apart@example.com")
    library.set_watchlist(user.id, make_movie("Listed Film").id, on=True)
    _db.session.add(
        PlaybackProgress(
            user_id=user.id, video_id=video.id, position_seconds=9, duration_seconds=30
        )
    )
    _db.session.commit()
    sign_in(page, user.email)
    page.goto("/library")
    expect(page.locator("main")).not_to_contain_text("Half Seen reel")
    expect(page.locator("#watchlist_cards")).to_contain_text("Listed Film")
    page.get_by_role("link", name="Continue watching").click()
    expect(page.locator(".resume-card")).to_contain_text("Half Seen reel")
    expect(page.locator("main")).not_to_contain_text("Listed Film")
