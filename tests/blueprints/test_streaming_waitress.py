"""Streaming under a real waitress: slow viewers hold no worker thread, and leave nothing behind.

Each test starts its own waitress with two worker threads, opens more slow streams than that
(clients that read the headers and then stop reading, as a paused player does), and checks what
a user would notice: the catalog still answers, and once the viewers go away no file handle or
thread is left. The timeouts below only stop a broken server from hanging the suite.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.conftest import LiveServer
from tests.factories import store_video

THREADS = 2
SLOW_VIEWERS = 6
BIG = 64 * 1024 * 1024  # far more than socket buffers and waitress's 16 MB output buffer


@pytest.fixture
def server(app) -> Iterator[LiveServer]:
    live = LiveServer(app, threads=THREADS).start()
    yield live
    live.stop()


@pytest.fixture
def big_video(db, media_dir):
    video = store_video(b"\x00\x00\x00\x20ftypisom" + b"\x00" * 1000, title="Big reel")
    path = os.path.join(media_dir, video.storage_key)
    os.truncate(path, BIG)  # sparse: no real disk use
    video.size = BIG
    return video


def open_fds_to(path: str) -> int:
    target = os.path.realpath(path)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == target
        except OSError:
            continue
    return count


def wait_for(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def viewer_cookie(server: LiveServer, video) -> str:
    """Open the player page like a browser and keep its session cookie (it holds the grant)."""
    session = requests.Session()
    page = session.get(f"{server.url}/watch/{video.id}", timeout=30)
    assert page.status_code == 200
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


def slow_viewer(server: LiveServer, video, cookie: str, start: int) -> socket.socket:
    """A stream that reads its headers and then stops reading (a paused player)."""
    port = int(server.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(
        (
            f"GET /stream/{video.id} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
            f"Range: bytes={start}-\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1024)
        assert chunk, "the server closed the stream before answering"
        head += chunk
    assert head.startswith(b"HTTP/1.1 206"), head[:200]
    return sock


def test_slow_streams_do_not_starve_the_site(server, big_video, media_dir):
    cookie = viewer_cookie(server, big_video)
    viewers = [
        slow_viewer(server, big_video, cookie, start=n * 1024 * 1024) for n in range(SLOW_VIEWERS)
    ]
    try:
        # More streams are open than waitress has worker threads, yet pages still come.
        for _ in range(3):
            home = requests.get(f"{server.url}/", timeout=30)
            assert home.status_code == 200 and "<html" in home.text
        probe = requests.get(
            f"{server.url}/stream/{big_video.id}",
            headers={"Cookie": cookie, "Range": "bytes=0-1"},
            timeout=30,
        )
        assert probe.status_code == 206 and probe.content == b"\x00\x00"
    finally:
        for sock in viewers:
            sock.close()


def test_viewers_who_leave_mid_stream_leave_no_file_open(server, big_video, media_dir):
    path = os.path.join(media_dir, big_video.storage_key)
    cookie = viewer_cookie(server, big_video)
    threads_before = threading.active_count()
    viewers = [slow_viewer(server, big_video, cookie, start=0) for _ in range(SLOW_VIEWERS)]
    assert wait_for(lambda: open_fds_to(path) == SLOW_VIEWERS)
    for sock in viewers:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # a reset, as when a tab is closed mid-stream
    assert wait_for(lambda: open_fds_to(path) == 0), "a stream's file stayed open"
    assert threading.active_count() == threads_before
    # The server still streams afterwards.
    again = requests.get(
        f"{server.url}/stream/{big_video.id}",
        headers={"Cookie": cookie, "Range": f"bytes={BIG - 10}-"},
        timeout=30,
    )
    assert again.status_code == 206 and len(again.content) == 10
