"""Screenshots of Aura's main pages, as a signed-in viewer sees them, for docs/screenshots/.

    .venv/bin/python bench/screenshots.py [OUTPUT_FOLDER]     (default docs/screenshots)

Builds a throwaway demo site in a temporary folder (the demo catalog, the sample videos with
English captions, a viewer with a watchlist, ratings, a diary and a video in progress), serves
it with waitress on a free loopback port, and photographs home, a film, the library and the
player at 1366x900 and 390x844 with Debian's Chromium. Nothing outside the temporary folder
and the output folder is touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import replace
from datetime import date, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from aura import MIGRATIONS_DIR, create_app  # noqa: E402
from aura.extensions import db  # noqa: E402
from aura.models import Movie, PlaybackProgress, Video  # noqa: E402
from aura.services import accounts, analytics, captions, demo, library, samples, scores  # noqa: E402
from aura.services.visitors import Visitor  # noqa: E402
from tests.e2e.conftest import CHROMIUM_FLAGS, LiveServer, chromium_path  # noqa: E402
from tests.factories import BROWSER_UA  # noqa: E402

EMAIL, PASSWORD = "viewer@aura.local", "velvet harbour lantern 42"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
CAPTIONS = b"""1
00:00:00,500 --> 00:00:09,000
A clock and a field of colour:
the player's sample reel.

2
00:00:09,000 --> 00:00:30,000
Press J or L to jump ten seconds.
"""


def film(title: str) -> Movie:
    return db.session.scalars(sa.select(Movie).where(Movie.title == title)).first()


def build_site() -> tuple[int, str]:
    """The demo site with one viewer's library in it; returns (film id, video id) to show."""
    upgrade(directory=MIGRATIONS_DIR)
    demo.load_demo()
    samples.install_samples(lambda *_: None)
    viewer = accounts.register(EMAIL, "Robin", PASSWORD)
    reel = db.session.scalars(sa.select(Video).where(Video.password_hash.is_(None))).first()
    captions.add_caption(reel.id, CAPTIONS, "en", "English")
    db.session.add(
        PlaybackProgress(
            user_id=viewer.id, video_id=reel.id, position_seconds=11, duration_seconds=30
        )
    )
    db.session.commit()
    visitor = Visitor(user_agent=BROWSER_UA, client_ip="127.0.0.9")
    popular = db.session.scalars(
        sa.select(Movie).order_by(Movie.popular_score.desc()).limit(40)
    ).all()
    for number, movie in enumerate(popular[::3]):
        analytics.film_viewed(movie.id, replace(visitor, client_ip=f"127.0.1.{number}"))
    scores.refresh()
    today = date.today()
    reviews = {
        0: "A perfect machine of a film: every scene earns the next one.",
        2: "Slow to start, then it never lets go. The last twenty minutes are worth it alone.",
        5: None,
        7: "Funnier than I remembered, and sadder.",
    }
    for number, review in reviews.items():
        library.rate(viewer.id, popular[number].id, 9 - number % 4, review)
        library.log_watch(viewer.id, popular[number].id, today - timedelta(days=3 + 9 * number))
    library.log_watch(viewer.id, popular[0].id, today - timedelta(days=1))
    for movie in popular[1:12:2]:
        library.set_watchlist(viewer.id, movie.id, on=True)
    return reel.movie_id or popular[0].id, str(reel.id)


def photograph(url: str, out: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        for size, (width, height) in SIZES.items():
            context = browser.new_context(
                base_url=url,
                viewport={"width": width, "height": height},
                user_agent=BROWSER_UA,
                reduced_motion="reduce",
            )
            page = context.new_page()
            page.goto("/auth/login")
            page.fill("#email", EMAIL)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/")
            for name, path in PAGES.items():
                page.goto(path)
                if name == "player":
                    page.wait_for_function(
                        "() => document.querySelector('#player').readyState >= 2"
                    )
                    page.evaluate(
                        "() => new Promise(done => { const v = document.querySelector('#player');"
                        " v.addEventListener('seeked', done, {once: true}); v.currentTime = 4; })"
                    )
                page.wait_for_timeout(300)  # let lazy posters paint; a picture, not a test
                page.screenshot(path=os.path.join(out, f"{name}-{size}.png"))
            context.close()
        browser.close()


PAGES: dict[str, str] = {}

if __name__ == "__main__":
    out = os.path.abspath(
        sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "screenshots")
    )
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {
                "INSTANCE_PATH": instance,
                "MEDIA_DIR": os.path.join(instance, "media"),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/aura.sqlite3",
                "SECRET_KEY": "screenshots",
                "BACKGROUND_JOBS": False,
            }
        )
        with app.app_context():
            movie_id, video_id = build_site()
        PAGES.update(
            {
                "home": "/",
                "film": f"/movies/{movie_id}",
                "library": "/library?show=ratings",
                "player": f"/watch/{video_id}",
            }
        )
        server = LiveServer(app).start()
        try:
            photograph(server.url, out)
        finally:
            server.stop()
        with app.app_context():
            db.engine.dispose()
    print(f"screenshots in {out}")
