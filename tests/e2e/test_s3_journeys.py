"""A video stored in an S3 bucket, played and seeked in a real browser: the player follows the
stream's redirect to a presigned link and asks the bucket (moto's S3 server) for ranges, with
the CSP allowing that origin for media only; or, behind nginx with X-Accel, asks only this
site and nginx fetches the ranges from the bucket."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.conftest import need_service
from tests.e2e.conftest import new_page
from tests.e2e.test_streaming_journeys import start_playing, wait_until_playing
from tests.factories import stretched_sample
from tests.fixtures.s3 import WatchedDoor, store_s3_video
from tests.test_nginx import Nginx, nginx_binary

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


@pytest.fixture(scope="module")
def s3_front(app, live_server, s3_server, s3_door, tmp_path_factory) -> Iterator[Nginx]:
    """docs/deploy/nginx.conf with its bucket location on, in front of the live server."""
    binary = nginx_binary()
    if binary is None:
        need_service("nginx is not installed (apt-get install nginx-light)")
    os.makedirs(app.config["MEDIA_DIR"], exist_ok=True)
    server = Nginx(
        binary,
        tmp_path_factory.mktemp("nginx-s3-e2e"),
        int(live_server.url.rsplit(":", 1)[1]),
        app.config["MEDIA_DIR"],
        s3=(s3_door.url, urlsplit(s3_server).netloc),
    )
    yield server
    server.stop()


def test_a_viewer_plays_and_seeks_a_bucket_video_through_nginx(
    browser, s3_front, s3_door: WatchedDoor, app, db, s3_media, media_dir, monkeypatch
):
    monkeypatch.setitem(app.config, "STREAM_OFFLOAD", "x-accel")
    video = store_s3_video(stretched_sample(8 * 1024 * 1024), title="Bucket reel via nginx")
    s3_door.requests.clear()
    errors: list[str] = []
    page = new_page(browser, s3_front, errors, ignore_https_errors=True)
    page.context.set_default_timeout(15_000)
    streams: list[int] = []
    elsewhere: list[str] = []
    page.on("response", lambda r: streams.append(r.status) if "/stream/" in r.url else None)
    page.on(
        "request",
        lambda r: None if r.url.startswith(s3_front.url) else elsewhere.append(r.url),
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
    page.context.close()
    # The browser only ever spoke to this site; nginx fetched the ranges, signed, from the bucket.
    assert elsewhere == []
    assert streams and set(streams) <= {200, 206}, streams
    assert s3_door.requests and all(request.signed for request in s3_door.requests)
    starts = [
        int(m.group(1))
        for m in (re.match(r"bytes=(\d+)-", r.headers.get("range", "")) for r in s3_door.requests)
        if m
    ]
    assert any(start > 8 * 1024 * 1024 for start in starts), f"no seek by range: {starts}"
    assert errors == [], f"browser errors: {errors}"
