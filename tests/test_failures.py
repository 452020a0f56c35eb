"""What Aura does when a service it needs fails, and that it recovers by itself.

- Redis away (a throwaway redis-server, killed and started again under a live `aura serve`):
  sign-in and video-password throttles fail closed (503 with Retry-After); browsing, film
  pages, signed-in pages and streaming fail open; all of it works again once Redis is back.
- PostgreSQL connections cut (pg_terminate_backend) between requests and during one: the next
  requests succeed without restarting Aura; the cut request is a 503 page and wrote nothing.
- A database that cannot be reached: pages are a 503 with Retry-After, /healthz says so.
- The media disk filling during an upload (a tmpfs of 4 MB): 507, nothing kept, the site
  serving on, and a smaller upload stored once there is room.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from aura import create_app
from aura.models import AuditEvent, Movie, Video
from tests.conftest import TEST_DATABASE_URL, AuraClient, _test_settings, login_as, need_service
from tests.factories import (
    VIDEO_PASSWORD,
    make_movie,
    make_supervisor,
    make_user,
    sample_bytes,
    store_video,
    stretched_sample,
)
from tests.fixtures.streaming import media_files
from tests.servers import AuraProcess, ThrowawayRedis, browser, csrf, post_form, sign_in


def no_traceback(process: AuraProcess) -> None:
    log = process.errors()
    assert "Traceback" not in log and "unhandled error" not in log, log


def eventually(attempt, seconds: float = 15.0):
    """Try until ``attempt`` returns something true (a recovery takes a moment, not a test)."""
    deadline = time.monotonic() + seconds
    while True:
        result = attempt()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


# -- Redis goes away ------------------------------------------------------------------------------


@pytest.fixture
def redis_site(app, tmp_path, monkeypatch) -> Iterator[tuple[AuraProcess, ThrowawayRedis]]:
    store = ThrowawayRedis(tmp_path / "redis").start()
    server = AuraProcess(
        tmp_path / "aura", app.config["SQLALCHEMY_DATABASE_URI"], AURA_REDIS_URL=store.url
    )
    # Factories store videos where this server serves them from.
    monkeypatch.setitem(app.config, "MEDIA_DIR", server.env["AURA_MEDIA_DIR"])
    try:
        server.start()
        yield server, store
    finally:
        server.stop()
        store.stop()


def test_without_redis_guards_close_and_browsing_stays_open(redis_site, db):
    server, store = redis_site
    film = make_movie("Open Road", popular_score=40)
    user, other = make_user(), make_user()
    open_video = store_video(title="Free reel")
    locked = store_video(title="Locked reel", password=VIDEO_PASSWORD)
    data = sample_bytes()
    viewer = browser()
    assert sign_in(viewer, server.url, user.email).status_code == 303
    unlock_page = f"/watch/{locked.id}"

    store.stop()

    # Browsing, film pages, a signed-in page and streaming: open.
    home = viewer.get(f"{server.url}/", timeout=30)
    assert home.status_code == 200 and "Open Road" in home.text
    assert viewer.get(f"{server.url}/movies/{film.id}", timeout=30).status_code == 200
    assert viewer.get(f"{server.url}/library", allow_redirects=False).status_code == 200
    assert viewer.get(f"{server.url}/watch/{open_video.id}", timeout=30).status_code == 200
    piece = viewer.get(f"{server.url}/stream/{open_video.id}", headers={"Range": "bytes=0-9"})
    assert piece.status_code == 206 and piece.content == data[:10]

    # Signing in: closed, with a page that says why and when to come back.
    refused = sign_in(browser(), server.url, other.email)
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) > 0
    assert "cannot count attempts right now" in refused.text and "<html" in refused.text
    hx = browser()
    page_token = csrf(hx, f"{server.url}/auth/login")
    fragment = hx.post(
        f"{server.url}/auth/login",
        data={"email": other.email, "password": "whatever it is", "csrf_token": page_token},
        headers={"HX-Request": "true"},
        timeout=30,
    )
    assert fragment.status_code == 503 and "Retry-After" in fragment.headers
    assert "<html" not in fragment.text and "cannot count attempts" in fragment.text

    # A video password: closed too (the right one included).
    guesser = browser()
    guesser.get(f"{server.url}{unlock_page}", timeout=30)
    closed = guesser.post(
        f"{server.url}/watch/{locked.id}/unlock",
        data={
            "password": VIDEO_PASSWORD,
            "csrf_token": csrf(guesser, f"{server.url}{unlock_page}"),
        },
        allow_redirects=False,
        timeout=30,
    )
    assert closed.status_code == 503 and int(closed.headers["Retry-After"]) > 0

    ready = viewer.get(f"{server.url}/readyz", timeout=30)
    assert ready.status_code == 503 and ready.json()["redis"] == "unreachable"

    # Redis comes back: everything works again without touching Aura.
    store.start()
    back = eventually(lambda: sign_in(browser(), server.url, other.email).status_code == 303)
    assert back, "signing in did not recover when Redis came back"
    opened = post_form(
        guesser, server.url, unlock_page, f"/watch/{locked.id}/unlock", password=VIDEO_PASSWORD
    )
    assert opened.status_code == 303
    assert viewer.get(f"{server.url}/readyz", timeout=30).status_code == 200
    no_traceback(server)


# -- PostgreSQL connections cut -------------------------------------------------------------------

APP_NAME = "aura-faults"


@pytest.fixture
def pg_site(app, tmp_path) -> Iterator[AuraProcess]:
    if not TEST_DATABASE_URL:
        pytest.skip("cuts PostgreSQL connections: runs with PostgreSQL")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    url += ("&" if "?" in url else "?") + f"application_name={APP_NAME}"
    server = AuraProcess(tmp_path / "aura", url)
    server.start()
    yield server
    server.stop()


def terminate(db, waiting_on_lock: bool = False) -> int:
    """End the server's database connections (only those waiting on a lock, if asked)."""
    query = (
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = :name AND pid <> pg_backend_pid()"
    )
    if waiting_on_lock:
        query += " AND wait_event_type = 'Lock'"
    with db.engine.connect() as connection:
        return connection.execute(sa.text(query), {"name": APP_NAME}).scalar_one()


def test_connections_cut_between_requests_are_survived(pg_site, db):
    film = make_movie("Still Here", popular_score=5)
    user = make_user()
    viewer = browser()
    assert sign_in(viewer, pg_site.url, user.email).status_code == 303
    for _ in range(3):
        assert viewer.get(f"{pg_site.url}/movies/{film.id}", timeout=30).status_code == 200
        assert terminate(db) >= 1
        assert viewer.get(f"{pg_site.url}/", timeout=30).status_code == 200
        assert viewer.get(f"{pg_site.url}/library", allow_redirects=False).status_code == 200
    added = post_form(viewer, pg_site.url, f"/movies/{film.id}", f"/library/watchlist/{film.id}")
    assert added.status_code in (200, 303)
    no_traceback(pg_site)


def test_a_connection_cut_during_a_request_is_a_503_that_wrote_nothing(pg_site, db):
    film = make_movie("Half Written", popular_score=5)
    boss = make_supervisor()
    supervisor = browser()
    assert sign_in(supervisor, pg_site.url, boss.email).status_code == 303
    token = csrf(supervisor, f"{pg_site.url}/supervisor/movies")
    target = f"{pg_site.url}/supervisor/movies/{film.id}/visibility"
    answer: dict = {}

    locker = db.engine.connect()
    try:
        # The hide updates the film, then waits on the catalog version: cut it there.
        locker.execute(sa.text("LOCK TABLE site_counter IN ACCESS EXCLUSIVE MODE"))

        def hide() -> None:
            answer["response"] = supervisor.post(
                target, data={"csrf_token": token, "hidden": "1"}, allow_redirects=False
            )

        request = threading.Thread(target=hide)
        request.start()
        cut = eventually(lambda: terminate(db, waiting_on_lock=True), seconds=10)
        assert cut == 1, "the request never waited on the lock"
    finally:
        locker.rollback()
        locker.close()
    request.join(timeout=30)

    response = answer["response"]
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "The database is not answering" in response.text and "Traceback" not in response.text
    db.session.expire_all()
    assert db.session.get(Movie, film.id).hidden is False
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "film.hide"
    )) == 0  # fmt: skip

    again = supervisor.post(
        target, data={"csrf_token": token, "hidden": "1"}, allow_redirects=False
    )
    assert again.status_code == 303
    db.session.expire_all()
    assert db.session.get(Movie, film.id).hidden is True
    no_traceback(pg_site)


# -- a database that cannot be reached ------------------------------------------------------------


def test_an_unreachable_database_is_a_503_page_and_healthz_says_so(app, tmp_path):
    unreachable = create_app(
        {
            **_test_settings(str(tmp_path)),
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://aura@127.0.0.1:1/aura",
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "connect_args": {"connect_timeout": 2},
            },
        }
    )
    unreachable.test_client_class = AuraClient
    client = unreachable.test_client()
    for path in ("/", "/movies/1", "/videos"):
        page = client.get(path)
        assert page.status_code == 503, (path, page.status_code)
        assert page.headers["Retry-After"] == "5"
        assert "The database is not answering" in page.text and "<html" in page.text
    signing_in = client.post("/auth/login", data={"email": "a@example.com", "password": "x" * 12})
    assert signing_in.status_code == 503 and "Retry-After" in signing_in.headers
    fragment = client.get("/", headers={"HX-Request": "true"})
    assert fragment.status_code == 503 and "<html" not in fragment.text
    health = client.get("/healthz")
    assert health.status_code == 503 and health.headers["Retry-After"] == "5"
    assert health.json["database"] == "unreachable"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["database"] == "unreachable"
    with unreachable.app_context():
        unreachable.extensions["sqlalchemy"].engines[None].dispose()


# -- the media disk fills up ----------------------------------------------------------------------


@pytest.fixture
def small_disk(app, tmp_path, monkeypatch) -> Iterator[Path]:
    folder = tmp_path / "small-disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        need_service(f"cannot mount a tmpfs (needs root): {mounted.stderr.decode().strip()}")
    monkeypatch.setitem(app.config, "MEDIA_DIR", str(folder))
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def upload(client, content: bytes, title: str, headers: dict | None = None):
    return client.post(
        "/supervisor/videos/new",
        data={
            "title": title,
            "description": "",
            "movie": "",
            "password": "",
            "file": (io.BytesIO(content), "reel.mp4", "video/mp4"),
        },
        content_type="multipart/form-data",
        headers=headers or {},
    )


def fill(folder: Path, leave: int) -> Path:
    """A file taking all but about ``leave`` bytes of the disk."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    filler = folder / "filler.bin"
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def test_a_full_disk_refuses_the_upload_cleanly_and_a_smaller_one_fits_later(
    client, db, small_disk
):
    login_as(client, make_supervisor())
    film = make_movie("Keeps Serving", popular_score=3)
    filler = fill(small_disk, leave=1024 * 1024)
    big = stretched_sample(2 * 1024 * 1024)

    plain = upload(client, big, "Too big for the disk")
    assert plain.status_code == 507
    assert "<html" in plain.text and "media is full, so nothing was stored" in plain.text
    htmx = upload(client, big, "Too big again", headers={"HX-Request": "true"})
    assert htmx.status_code == 507
    assert "<html" not in htmx.text and "media is full" in htmx.text

    assert media_files(str(small_disk)) == ["filler.bin"]  # no .part left behind
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Video)) == 0
    assert client.get("/").status_code == 200
    assert client.get(f"/movies/{film.id}").status_code == 200

    with contextlib.suppress(FileNotFoundError):
        filler.unlink()
    stored = upload(client, sample_bytes(), "Fits now")
    assert stored.status_code == 303, stored.text
    video = db.session.scalar(sa.select(Video))
    assert video is not None and video.title == "Fits now"
    assert media_files(str(small_disk)) == [video.storage_key]


# -- the cache and the replay guard, with a Redis that never answers ---------------------------


def test_the_cache_misses_and_the_replay_guard_refuses_while_redis_is_away(app, tmp_path):
    import pyotp

    from aura.caching import SharedCache
    from aura.errors import Unavailable
    from aura.extensions import cache
    from aura.services import mfa

    away = "redis://127.0.0.1:1/0"
    site = create_app(
        {
            **_test_settings(str(tmp_path)),
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": away,
            "CACHE_TYPE": "aura.caching.SharedCache",
            "CACHE_REDIS_URL": away,
            "CACHE_OPTIONS": {"socket_timeout": 1.0, "socket_connect_timeout": 1.0},
            "RATELIMIT_STORAGE_URI": app.config["RATELIMIT_STORAGE_URI"],
        }
    )
    secret = pyotp.random_base32()
    with site.app_context():
        assert isinstance(cache.cache, SharedCache)
        assert cache.set("k", 1) is False and cache.get("k") is None
        assert cache.add("lock", 1) is False  # a lock nobody can take: the work waits
        with pytest.raises(Unavailable) as refused:
            mfa.verify_totp(secret, pyotp.TOTP(secret).now(), "user-1")
        assert refused.value.status == 503 and refused.value.retry_after == 60
