"""The player at the level of Jellyfin's: shortcuts and buttons, captions, descriptions; and
the diary it fills by itself."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.factories import make_movie, make_supervisor, make_user, store_video

pytestmark = pytest.mark.e2e

SRT = b"""1
00:00:00,200 --> 00:00:20,000
Bonjour, <i>le monde</i>.

2
00:00:20,000 --> 00:00:29,000
Au revoir.
"""


def player_ready(page) -> None:
    page.wait_for_function(
        "() => { const v = document.querySelector('#player'); return v && v.readyState >= 1; }"
    )


def at(page, low: float, high: float) -> None:
    page.wait_for_function(
        "([low, high]) => { const t = document.querySelector('#player').currentTime;"
        " return t >= low && t <= high; }",
        arg=[low, high],
    )


def test_player_keyboard_shortcuts_buttons_and_speed_menu(page, db, media_dir):
    video = store_video(title="Shortcut reel")
    page.goto(f"/watch/{video.id}")
    player_ready(page)
    page.locator("h1").click()  # the page, not a control, has the keyboard
    page.keyboard.press("l")
    at(page, 9.9, 10.1)
    page.keyboard.press("ArrowRight")
    at(page, 19.9, 20.1)
    page.keyboard.press("j")
    at(page, 9.9, 10.1)
    back = page.get_by_role("button", name="10 s back")
    back.focus()  # reachable by the keyboard, and Enter presses it
    page.keyboard.press("Enter")
    at(page, 0, 0.1)
    page.get_by_role("button", name="10 s forward").click()
    at(page, 9.9, 10.1)
    page.get_by_label("Speed").select_option("1.5")
    assert page.evaluate("document.querySelector('#player').playbackRate") == 1.5
    page.locator("h1").click()
    page.keyboard.press(">")
    assert page.evaluate("document.querySelector('#player').playbackRate") == 1.75
    expect(page.get_by_label("Speed")).to_have_value("1.75")
    page.keyboard.press("<")
    page.keyboard.press("<")
    assert page.evaluate("document.querySelector('#player').playbackRate") == 1.25
    page.keyboard.press("m")
    assert page.evaluate("document.querySelector('#player').muted") is True
    page.keyboard.press("k")
    page.wait_for_function("() => !document.querySelector('#player').paused")
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('#player').paused")
    page.keyboard.press("f")
    page.wait_for_function("() => document.fullscreenElement !== null")
    page.keyboard.press("f")
    page.wait_for_function("() => document.fullscreenElement === null")


def test_supervisor_adds_srt_captions_and_the_player_offers_them(page, db, media_dir, tmp_path):
    film = make_movie("Captioned Film")
    video = store_video(title="Captioned reel", movie=film)
    sign_in(page, make_supervisor(email="captions@example.com").email)
    page.goto(f"/supervisor/videos/{video.id}/edit")
    subtitles = tmp_path / "french.srt"
    subtitles.write_bytes(SRT)
    page.set_input_files("#caption-file", str(subtitles))
    page.locator("#caption-language").fill("xx-!!")
    page.get_by_role("button", name="Add captions").click()
    expect(page.locator("#caption-language-error")).to_contain_text("BCP 47")
    page.set_input_files("#caption-file", str(subtitles))
    page.locator("#caption-language").fill("fr")
    page.get_by_role("button", name="Add captions").click()
    expect(page.locator(".caption-list")).to_contain_text("French")

    page.goto(f"/watch/{video.id}")
    track = page.locator("#player track")
    expect(track).to_have_attribute("srclang", "fr")
    expect(track).to_have_attribute("kind", "captions")
    page.wait_for_function(
        "() => { const t = document.querySelector('#player').textTracks[0];"
        " t.mode = 'showing'; return t.cues && t.cues.length === 2; }"
    )
    served = page.request.get(track.get_attribute("src"))
    assert served.headers["content-type"].startswith("text/vtt")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.text().startswith("WEBVTT")
    # Without the player's grant (another browser), the file is refused like the video.
    other = page.context.browser.new_context(base_url=page.url.split("/watch")[0])
    assert other.request.get(track.get_attribute("src")).status == 403
    other.close()


def test_descriptions_are_paragraphs_with_safe_links(page, db, media_dir):
    video = store_video(
        title="Described reel",
        description=(
            "Made with `aura demo` and **care**.\n\nMore at https://example.com/notes. <b>bold?</b>"
        ),
    )
    page.goto(f"/watch/{video.id}")
    description = page.locator(".watch-description")
    expect(description.locator("p")).to_have_count(2)
    expect(description).not_to_contain_text("`")
    expect(description).not_to_contain_text("**")
    expect(description).to_contain_text("<b>bold?</b>")  # typed HTML stays text
    link = description.get_by_role("link", name="https://example.com/notes")
    expect(link).to_have_attribute("rel", "nofollow noopener noreferrer")
    expect(link).to_have_attribute("href", "https://example.com/notes")


def test_watching_to_the_end_fills_the_diary_and_entries_can_be_added_and_removed(
    page, db, media_dir
):
    film = make_movie("Diary Film")
    video = store_video(title="Diary reel", movie=film)
    sign_in(page, make_user(email="diary@example.com").email)
    page.goto(f"/watch/{video.id}")
    player_ready(page)
    with page.expect_response(lambda r: r.url.endswith("/progress")) as report:
        page.evaluate(
            "() => { const v = document.querySelector('#player'); v.muted = true;"
            " v.currentTime = v.duration - 0.5; v.play(); }"
        )
    assert report.value.status == 204
    page.goto("/library?show=diary")
    entry = page.locator(".diary-entry", has_text="Diary Film")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Watched here")
    expect(entry).not_to_contain_text("Rewatch")

    page.goto(f"/movies/{film.id}")
    page.locator(f"#watched-on-{film.id}").fill("2024-03-05")
    page.get_by_role("button", name="Log in your diary").click()
    expect(page.locator(".diary-status")).to_have_text("Logged on 5 March 2024.")
    page.goto("/library?show=diary")
    expect(page.get_by_role("heading", name="March 2024")).to_be_visible()
    entries = page.locator(".diary-entry", has_text="Diary Film")
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("Rewatch")  # today's came after March 2024's
    entries.nth(1).get_by_role("button", name=re.compile("Remove")).click()
    expect(entries).to_have_count(1)
    page.reload()
    expect(page.locator(".diary-entry", has_text="Diary Film")).not_to_contain_text("Rewatch")
