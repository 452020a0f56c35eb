"""A video stored in an S3 bucket, played and seeked in a real browser: the player follows the
stream's redirect to a presigned link and asks the bucket (moto's S3 server) for ranges, with
the CSP allowing that origin for media only."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import new_page
from tests.e2e.test_streaming_journeys import start_playing, wait_until_playing
from tests.factories import stretched_sample
from tests.fixtures.s3 import store_s3_video

pytestmark = pytest.mark.e2e


def test_a_viewer_plays_and_seeks_a_video_from_the_bucket(
    browser, live_server, db, s3_media, media_dir
):
    # 8 MB of nothing halfway: the middle is far into the object.
    video = store_s3_video(stretched_sample(8 * 1024 * 1024), title="Bucket reel")
    errors: list[str] = []
    page = new_page(browser, live_server, errors)
    page.context.set_default_timeout(15_000)
    redirects: list[int] = []
    bucket_ranges: list[str] = []
    page.on("response", lambda r: redirects.append(r.status) if "/stream/" in r.url else None)
    page.on(
        "request",
        lambda r: (
            bucket_ranges.append(r.headers.get("range", ""))
            if r.url.startswith(s3_media.endpoint)
            else None
        ),
    )
    slow = page.context.new_cdp_session(page)
    slow.send("Network.enable")
    slow.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": 400_000, "uploadThroughput": -1},
    )
    page.goto(f"/watch/{video.id}")
    start_playing(page)
    wait_until_playing(page, 0.3)
    assert 29 < page.evaluate("document.querySelector('#player').duration") < 31
    page.evaluate("() => { document.querySelector('#player').currentTime = 20; }")
    page.wait_for_function("() => !document.querySelector('#player').seeking")
    wait_until_playing(page, 20.5)
    assert redirects and set(redirects) == {307}
    starts = [int(m.group(1)) for m in map(re.compile(r"bytes=(\d+)-").match, bucket_ranges) if m]
    assert any(start > 8 * 1024 * 1024 for start in starts), f"no seek by range: {bucket_ranges}"
    page.context.close()
    assert errors == [], f"browser errors: {errors}"
