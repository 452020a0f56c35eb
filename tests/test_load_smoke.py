"""The load benchmark's viewers, briefly: a handful of them against a real waitress at once.

bench/load_bench.py runs fifty of them for a minute under Locust; here five run for a few
seconds from plain threads (the same client logic, bench/load_client.py). What a user would
notice: no page fails with a 5xx, and every rating, watchlist change, saved position, film page
view and play the site confirmed is in the database afterwards. On PostgreSQL when
AURA_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import threading
import time

import pytest

from bench.load_client import PASSWORD, Catalog, Site, Viewer, check
from tests.e2e.conftest import LiveServer
from tests.factories import make_movie, make_user, sample_bytes, store_video

VIEWERS = 5
SECONDS = 4.0


@pytest.fixture
def server(app):
    live = LiveServer(app, threads=4).start()
    yield live
    live.stop()


@pytest.fixture
def catalog(db, media_dir) -> Catalog:
    films = [
        make_movie(f"Night city {n}", popularity=float(n), popular_score=float(n))
        for n in range(60)
    ]
    videos = []
    for n in range(2):
        video = store_video(sample_bytes() + bytes(512 * 1024), title=f"Reel {n}", movie=films[n])
        videos.append((str(video.id), video.size, 120.0))
    return Catalog([film.id for film in films], videos)


def test_viewers_at_once_get_no_5xx_and_lose_no_write(app, db, server, catalog):
    emails = [make_user(f"load{n}@example.com", password=PASSWORD).email for n in range(VIEWERS)]
    viewers = [Viewer(Site(server.url), email, catalog, seed=n) for n, email in enumerate(emails)]
    deadline = time.monotonic() + SECONDS
    signed_in = []

    def run(viewer: Viewer) -> None:
        if not viewer.sign_in():
            return
        signed_in.append(viewer)
        viewer.play()  # every viewer has a grant, so position reports are accepted
        while time.monotonic() < deadline:
            viewer.step()

    threads = [threading.Thread(target=run, args=(viewer,)) for viewer in viewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for viewer in viewers:
        viewer.http.close()

    assert len(signed_in) == VIEWERS
    ledgers = [viewer.ledger for viewer in viewers]
    report = check(db.engine, ledgers)
    assert report.five_xx == 0, report.summary()
    assert report.no_answer == 0, report.summary()
    assert report.lost == [], report.summary()
    # The viewers did write (so the comparison above compared something).
    assert sum(len(ledger.plays) for ledger in ledgers) >= VIEWERS
    assert sum(ledger.writes for ledger in ledgers) >= VIEWERS
