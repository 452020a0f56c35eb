"""Videos in a real browser: upload with progress, play, seek, and unlock a protected video."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from aura.models import Video
from tests.e2e.conftest import new_page
from tests.factories import (
    PASSWORD,
    SAMPLE_MP4,
    VIDEO_PASSWORD,
    make_movie,
    make_supervisor,
    make_user,
    store_video,
    stretched_sample,
)

pytestmark = pytest.mark.e2e


def sign_in(page, email: str) -> None:
    page.goto("/auth/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account")).to_contain_text("Sign out")


def wait_until_playing(page, after: float = 0.0) -> None:
    """The player's clock moves past ``after``: the browser is really playing the stream."""
    page.wait_for_function(
        "after => { const v = document.querySelector('#player');"
        " return v && !v.paused && v.readyState >= 3 && v.currentTime > after; }",
        arg=after,
    )


def start_playing(page) -> None:
    page.wait_for_function(
        "() => { const v = document.querySelector('#player'); return v && v.readyState >= 1; }"
    )
    # Muted playback may start without a click, as in any browser's autoplay policy.
    page.evaluate(
        "() => { const v = document.querySelector('#player'); v.muted = true; v.play(); }"
    )


def test_supervisor_uploads_and_a_viewer_plays_and_seeks(
    page, browser, live_server, db, media_dir, tmp_path
):
    film = make_movie("Night of the Living Dead", popular_score=99)
    boss = make_supervisor(email="boss@example.com")
    viewer = make_user(email="viewer@example.com")
    # The sample with 8 MB of nothing halfway: its second half is far into the file.
    upload_file = tmp_path / "night-reel.mp4"
    upload_file.write_bytes(stretched_sample(8 * 1024 * 1024))

    # The supervisor uploads, watching the progress bar (upload slowed down so it shows).
    sign_in(page, boss.email)
    page.get_by_role("link", name="Supervisor").click()
    portal = page.get_by_role("navigation", name="Supervisor")
    portal.get_by_role("link", name="Videos", exact=True).click()
    page.get_by_role("link", name="Upload a video").click()
    expect(page.locator(".upload-progress-wrap")).to_be_hidden()
    page.set_input_files("input[name=file]", str(upload_file))
    page.locator("#title").fill("Night reel")
    page.locator("#movie").fill(f"#{film.id}")
    # Log every value the bar shows; the log outlives the page in the tab's sessionStorage.
    page.evaluate(
        """() => {
          const bar = document.querySelector('.upload-progress');
          new MutationObserver(() => {
            const seen = JSON.parse(sessionStorage.getItem('progressSeen') || '[]');
            seen.push(bar.getAttribute('aria-valuetext'));
            sessionStorage.setItem('progressSeen', JSON.stringify(seen));
          }).observe(bar, {attributes: true, attributeFilter: ['aria-valuetext']});
        }"""
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 2_000_000},
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".upload-progress-wrap")).to_be_visible()
    expect(page.locator(".upload-status")).to_contain_text("%")
    expect(page).to_have_url(re.compile(r"/supervisor/videos$"), timeout=30_000)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    expect(page.locator(".videos-table")).to_contain_text("Night reel")
    seen = page.evaluate("() => JSON.parse(sessionStorage.getItem('progressSeen') || '[]')")
    assert len(seen) > 1 and seen[-1] == "100%", f"the progress bar showed {seen}"
    video = db.session.scalar(sa.select(Video).where(Video.title == "Night reel"))
    assert (
        video is not None and video.movie_id == film.id and video.size == upload_file.stat().st_size
    )

    # A viewer, in another browser, finds the film, plays it and seeks to the middle.
    errors: list[str] = []
    watcher = new_page(browser, live_server, errors)
    watcher.context.set_default_timeout(15_000)
    statuses: list[int] = []
    ranges: list[str] = []
    watcher.on("response", lambda r: statuses.append(r.status) if "/stream/" in r.url else None)
    watcher.on(
        "request",
        lambda r: ranges.append(r.headers.get("range", "")) if "/stream/" in r.url else None,
    )
    sign_in(watcher, viewer.email)
    # A slow line, so the middle is not buffered yet when the viewer seeks there.
    slow = watcher.context.new_cdp_session(watcher)
    slow.send("Network.enable")
    slow.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": 400_000, "uploadThroughput": -1},
    )
    watcher.goto(f"/movies/{film.id}")
    watcher.get_by_role("link", name=re.compile("Play")).click()
    expect(watcher).to_have_url(re.compile(f"/watch/{video.id}"))
    start_playing(watcher)
    wait_until_playing(watcher, 0.3)
    duration = watcher.evaluate("document.querySelector('#player').duration")
    assert 29 < duration < 31
    watcher.evaluate("() => { document.querySelector('#player').currentTime = 20; }")
    watcher.wait_for_function("() => !document.querySelector('#player').seeking")
    wait_until_playing(watcher, 20.5)  # playback carries on past the middle
    assert 206 in statuses and set(statuses) <= {200, 206}
    starts = [int(m.group(1)) for m in map(re.compile(r"bytes=(\d+)-").match, ranges) if m]
    assert any(start > 8 * 1024 * 1024 for start in starts), f"no seek by range: {ranges}"
    # Pausing saves the position; the next visit resumes there.
    with watcher.expect_response(lambda r: r.url.endswith("/progress")) as saved:
        watcher.evaluate("() => document.querySelector('#player').pause()")
    assert saved.value.status == 204
    watcher.goto(f"/watch/{video.id}")
    expect(watcher.locator(".resume-note")).to_contain_text("Resuming where you stopped, at 0:2")
    watcher.wait_for_function(
        "() => { const v = document.querySelector('#player'); return v && v.currentTime >= 20; }"
    )
    watcher.goto("/")
    expect(watcher.locator(".resume-strip")).to_contain_text("Night reel")
    watcher.context.close()
    assert errors == []


def test_unlocking_a_protected_video_after_a_wrong_password(page, db, media_dir):
    film = make_movie("Casablanca", popular_score=50)
    video = store_video(title="Locked reel", movie=film, password=VIDEO_PASSWORD)
    page.goto(f"/movies/{film.id}")
    page.get_by_role("link", name=re.compile("Play")).click()
    expect(page.get_by_role("heading", name="Locked reel")).to_be_visible()
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Unlock").click()
    expect(page.locator(".field-error")).to_contain_text("That password is not right")
    expect(page.locator("#player")).to_have_count(0)
    page.get_by_label("Password").fill(VIDEO_PASSWORD)
    page.get_by_role("button", name="Unlock").click()
    expect(page).to_have_url(re.compile(f"/watch/{video.id}$"))
    start_playing(page)
    wait_until_playing(page, 0.3)
    page.evaluate("() => document.querySelector('#player').pause()")


def test_upload_and_unlock_without_javascript(browser, live_server, db, media_dir):
    """The upload form is a plain multipart POST, and the password form a plain form."""
    boss = make_supervisor(email="nojs@example.com")
    locked = store_video(title="Plain locked", password=VIDEO_PASSWORD)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, boss.email)
        page.goto("/supervisor/videos/new")
        page.set_input_files("input[name=file]", SAMPLE_MP4)
        page.locator("#title").fill("Posted without scripts")
        page.get_by_role("button", name="Upload").click()
        expect(page).to_have_url(re.compile(r"/supervisor/videos$"))
        expect(page.locator(".videos-table")).to_contain_text("Posted without scripts")

        page.goto(f"/watch/{locked.id}")
        page.get_by_label("Password").fill(VIDEO_PASSWORD)
        page.get_by_role("button", name="Unlock").click()
        expect(page).to_have_url(re.compile(f"/watch/{locked.id}$"))
        expect(page.locator("video#player")).to_have_count(1)
    finally:
        context.close()


def test_a_refused_field_keeps_the_chosen_file(page, db, media_dir):
    """The title is missing: the form comes back with the message, and the video file is
    still chosen, so fixing the title and sending again uploads it."""
    boss = make_supervisor(email="keeps@example.com")
    sign_in(page, boss.email)
    page.goto("/supervisor/videos/new")
    page.set_input_files("input[name=file]", SAMPLE_MP4)
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#title-error")).to_contain_text("Give the video a title")
    expect(page.locator(".form-note")).to_contain_text("still chosen")
    assert page.evaluate("document.querySelector('input[name=file]').files.length") == 1
    expect(page.locator("#title")).to_be_focused()
    page.locator("#title").fill("Second try")
    page.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(re.compile(r"/supervisor/videos$"))
    expect(page.locator(".videos-table")).to_contain_text("Second try")


def test_a_refused_file_must_be_chosen_again(page, db, media_dir, tmp_path):
    boss = make_supervisor(email="refused@example.com")
    fake = tmp_path / "page.mp4"
    fake.write_bytes(b"<!doctype html><script>alert(1)</script>" * 20)
    sign_in(page, boss.email)
    page.goto("/supervisor/videos/new")
    page.set_input_files("input[name=file]", str(fake))
    page.locator("#title").fill("Not a video")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#file-error")).to_contain_text("not a video")
    assert page.evaluate("document.querySelector('input[name=file]').files.length") == 0


def test_without_javascript_a_refused_field_says_to_choose_the_file_again(
    browser, live_server, db, media_dir
):
    boss = make_supervisor(email="again@example.com")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, boss.email)
        page.goto("/supervisor/videos/new")
        page.set_input_files("input[name=file]", SAMPLE_MP4)
        page.get_by_role("button", name="Upload").click()
        expect(page.locator("#title-error")).to_contain_text("Give the video a title")
        expect(page.locator(".form-note")).to_contain_text("Choose the video file again")
    finally:
        context.close()
