"""Dashboard benchmarks, measured side by side in one run and printed as ratios.

    python bench/dashboard_bench.py [--large 1000000] [--small 10000] [--runs 300] [--pages 3000]

1. The dashboard's live block (GET /supervisor/ with HX-Request, what the 5-second poll asks
   for) on a site with 1,000,000 views against the same site with 10,000 views. The cache is
   off (NullCache), so every request computes the block; the requests alternate between the
   two sites so that the machine's drift falls on both.
2. A film page with view recording on against the same page with ``AURA_RECORD_VIEWS=off``,
   on the large site, every request from a new visitor (new address) to a random film: the
   dearest case, since a first visit of the day writes every rollup. Views are written behind
   the requests, as in production; the writer's work is timed too (after each block of
   ``--block`` pages, the views of about a busy second) and counted in the last ratio. For
   reference, the same with each view written in its own request (``AURA_VIEW_FLUSH_SECONDS=0``).

Each site is a temporary SQLite database built by the migrations; films, users, videos and
views (raw rows and their hourly and daily rollups, as ``analytics`` keeps them) are inserted
in bulk with executemany, not through HTTP. Requests go through the Flask test client.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections import defaultdict
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa

from aura import MIGRATIONS_DIR, create_app
from aura.extensions import db
from aura.models import (
    AccessGrant,
    AuditEvent,
    DailyVisit,
    FilmHour,
    Movie,
    PlaybackProgress,
    Rating,
    TrafficDay,
    TrafficHour,
    User,
    Video,
    VideoHour,
    View,
)
from aura.services import analytics, passwords

PASSWORD = "bench supervisor password 9"
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
]
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
REFERRERS = [None, None, "https://www.google.com/", "https://news.example/today"]
DAYS = 30
FILMS = 3000
VIDEOS = 60
USERS = 2000
BATCH = 20_000
ROUNDS = 3


def build_app(instance: str):
    os.makedirs(instance)
    app = create_app(
        {
            "CONFIG_NAME": "testing",
            "TESTING": False,
            "INSTANCE_PATH": instance,
            "MEDIA_DIR": os.path.join(instance, "media"),
            "BACKUP_DIR": os.path.join(instance, "backups"),
            "SECRET_KEY": "dashboard-bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.sqlite3",
            "CACHE_TYPE": "NullCache",  # every request computes the block
            "RATELIMIT_STORAGE_URI": "memory://",
            "REDIS_URL": None,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=MIGRATIONS_DIR)
    return app


def _insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(sa.insert(model), rows[start : start + BATCH])


def fill(app, views: int, now: datetime, seed: int = 11) -> None:
    """Films, users, videos, and ``views`` views over the last 30 days with their rollups."""
    rng = random.Random(seed)
    with app.app_context():
        hashed = passwords.hash_password(PASSWORD)
        _insert(
            User,
            [
                {
                    "email": f"user{n}@example.com",
                    "display_name": f"User {n}",
                    "password_hash": hashed,
                    "role": "supervisor" if n == 0 else "viewer",
                }
                for n in range(USERS)
            ],
        )
        _insert(
            Movie,
            [
                {
                    "title": f"Bench film {n}",
                    "source": "local",
                    "popularity": rng.random() * 50,
                    "hidden": n % 97 == 0,
                }
                for n in range(FILMS)
            ],
        )
        video_ids = [uuid.uuid4() for _ in range(VIDEOS)]
        _insert(
            Video,
            [
                {
                    "id": video_id,
                    "movie_id": 1 + n,
                    "title": f"Bench reel {n}",
                    "storage_key": uuid.uuid4().hex,
                    "content_type": "video/mp4",
                    "size": 1000,
                    "sha256": "0" * 64,
                }
                for n, video_id in enumerate(video_ids)
            ],
        )
        db.session.commit()

        traffic: dict[datetime, list[int]] = defaultdict(lambda: [0, 0, 0])
        day_visitors: dict = defaultdict(int)
        film_hours: dict = defaultdict(lambda: [0, 0, 0])
        video_hours: dict = defaultdict(lambda: [0, 0])
        seen: set = set()  # (subject, day, visitor) already counted
        daily: list[dict] = []
        recent = (now - timedelta(days=8)).date()  # purge keeps about this much of daily_visit
        raw: list[dict] = []
        start = now - timedelta(days=DAYS)
        span = (now - start).total_seconds()
        people = max(50, views // 8)
        for _ in range(views):
            at = start + timedelta(seconds=rng.random() * span)
            hour = at.replace(minute=0, second=0, microsecond=0)
            day = at.date()
            bot = rng.random() < 0.05
            person = int(rng.paretovariate(1.2)) % people
            user_id = 2 + person if person < USERS - 2 and person % 5 == 0 else None
            visitor = None if bot else (f"u{user_id}" if user_id else f"h{person:012d}{day:%Y%m%d}")
            play = rng.random() < 0.15
            video_index = rng.randrange(VIDEOS) if play else None
            movie_id = 1 + video_index if play else 1 + int(rng.paretovariate(1.1) * 7) % FILMS
            raw.append(
                {
                    "movie_id": movie_id,
                    "video_id": video_ids[video_index] if play else None,
                    "user_id": user_id,
                    "client_ip": f"10.{person % 250}.{person // 250 % 250}.{person % 7}",
                    "user_agent": BOT if bot else AGENTS[person % len(AGENTS)],
                    "referrer": REFERRERS[person % len(REFERRERS)],
                    "kind": "play" if play else "detail",
                    "visitor": visitor,
                    "bot": bot,
                    "at": at,
                }
            )
            if len(raw) == BATCH:
                _insert(View, raw)
                raw.clear()
            if bot:
                traffic[hour][2] += 1
                continue
            traffic[hour][1 if play else 0] += 1
            subjects = ["site", f"film:{movie_id}"]
            if play:
                subjects.append(f"video:{video_ids[video_index]}")
            first = {}
            for subject in subjects:
                key = (subject, day, visitor)
                first[subject] = key not in seen
                if first[subject]:
                    seen.add(key)
                    if day >= recent:
                        daily.append({"subject": subject, "day": day, "visitor": visitor, "at": at})
            if first["site"]:
                day_visitors[day] += 1
            film = film_hours[(movie_id, hour)]
            film[1 if play else 0] += 1
            film[2] += int(first[f"film:{movie_id}"])
            if play:
                video = video_hours[(video_ids[video_index], hour)]
                video[0] += 1
                video[1] += int(first[f"video:{video_ids[video_index]}"])
        _insert(View, raw)
        _insert(
            TrafficHour,
            [{"hour": h, "views": v, "plays": p, "bots": b} for h, (v, p, b) in traffic.items()],
        )
        _insert(TrafficDay, [{"day": d, "visitors": n} for d, n in day_visitors.items()])
        _insert(
            FilmHour,
            [
                {"movie_id": m, "hour": h, "views": v, "plays": p, "visitors": n}
                for (m, h), (v, p, n) in film_hours.items()
            ],
        )
        _insert(
            VideoHour,
            [
                {"video_id": m, "hour": h, "plays": p, "visitors": n}
                for (m, h), (p, n) in video_hours.items()
            ],
        )
        _insert(DailyVisit, daily)
        # The rest of the live block: players reporting, ratings, lockouts, all scaled alike.
        scale = max(1, views // 10_000)
        _insert(
            AccessGrant,
            [
                {
                    "token_hash": uuid.uuid4().hex,
                    "video_id": video_ids[n % VIDEOS],
                    "session_id": f"browser{n}",
                    "created_at": now - timedelta(hours=2),
                    "expires_at": now + timedelta(hours=1),
                    "last_used_at": now - timedelta(minutes=rng.randrange(0, 60 * 24)),
                }
                for n in range(10 * scale)
            ],
        )
        _insert(
            PlaybackProgress,
            [
                {
                    "user_id": 2 + n,
                    "video_id": video_ids[n % VIDEOS],
                    "position_seconds": 30.0,
                    "duration_seconds": 100.0,
                    "updated_at": now - timedelta(minutes=rng.randrange(0, 60 * 24 * DAYS)),
                }
                for n in range(min(USERS - 2, 5 * scale))
            ],
        )
        _insert(
            Rating,
            [
                {
                    "user_id": 2 + n % (USERS - 2),
                    "movie_id": 1 + n // (USERS - 2),
                    "score": 1 + n % 10,
                    "review": "Fine." if n % 3 == 0 else None,
                    "created_at": now - timedelta(minutes=rng.randrange(0, 60 * 24 * DAYS)),
                }
                for n in range(min(20 * scale, (USERS - 2) * FILMS))
            ],
        )
        _insert(
            AuditEvent,
            [
                {
                    "action": rng.choice(
                        [
                            "login.success",
                            "login.failure",
                            "login.throttled",
                            "video.unlock_throttled",
                        ]
                    ),
                    "target": "bench",
                    "at": now - timedelta(minutes=rng.randrange(0, 60 * 24 * DAYS)),
                }
                for _ in range(20 * scale)
            ],
        )
        db.session.commit()


def signed_in_client(app):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = AGENTS[0]
    page = client.get("/auth/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/auth/login",
        data={"email": "user0@example.com", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303, response.text
    return client


def timed(client, url: str, **kwargs) -> float:
    start = time.perf_counter()
    response = client.get(url, **kwargs)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--pages", type=int, default=3000, help="film pages each way")
    parser.add_argument("--block", type=int, default=100, help="film pages between two writes")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*NullCache.*")  # off on purpose
    root = tempfile.mkdtemp(prefix="aura-dashboard-bench-")
    try:
        now = datetime.now(UTC)
        sites = {}
        for name, count in (("small", args.small), ("large", args.large)):
            started = time.perf_counter()
            app = build_app(os.path.join(root, name))
            fill(app, count, now)
            size = os.path.getsize(os.path.join(root, name, "bench.sqlite3")) / 2**20
            print(
                f"built the {name} site: {count:,} views, {size:,.0f} MiB, "
                f"{time.perf_counter() - started:.0f} s"
            )
            sites[name] = (app, signed_in_client(app))

        hx = {"HX-Request": "true"}
        for _ in range(20):  # warm both: connections, templates, page cache
            for _app, client in sites.values():
                timed(client, "/supervisor/", headers=hx)
        print()
        print(f"1. the dashboard's live block (HX-Request), no cache, {ROUNDS} runs of {args.runs}")
        everything = {"small": [], "large": []}
        for number in range(1, ROUNDS + 1):
            samples = {"small": [], "large": []}
            for _ in range(args.runs):
                for name, (_app, client) in sites.items():
                    samples[name].append(timed(client, "/supervisor/", headers=hx))
            small, large = (statistics.median(samples[name]) for name in ("small", "large"))
            print(
                f"   run {number}: {args.small:,} views {ms(small)}   {args.large:,} views "
                f"{ms(large)}   ratio {large / small:5.2f}"
            )
            for name in everything:
                everything[name] += samples[name]
        small, large = (statistics.median(everything[name]) for name in ("small", "large"))
        print(f"   median of all: {ms(small)} against {ms(large)}   ratio {large / small:5.2f}")

        app, _client = sites["large"]
        # Recording as it runs in production (views written behind the requests), with the
        # writer's own work timed here: it runs after each block of requests, not on its clock.
        app.config["VIEW_FLUSH_SECONDS"] = 60.0
        viewer = app.test_client()
        viewer.environ_base["HTTP_USER_AGENT"] = AGENTS[1]  # a person: bots are not recorded
        rng = random.Random(5)
        shown = [n for n in range(1, FILMS + 1) if (n - 1) % 97]  # hidden films are 404s
        visitor = iter(range(1, 10**9))

        def film_page(record: bool) -> float:
            app.config["RECORD_VIEWS"] = record
            n = next(visitor)
            address = f"172.{16 + n // 65536 % 16}.{n // 256 % 256}.{n % 256}"
            return timed(
                viewer, f"/movies/{rng.choice(shown)}", environ_base={"REMOTE_ADDR": address}
            )

        def write_views() -> float:
            with app.app_context():
                start = time.perf_counter()
                analytics.flush()
                return time.perf_counter() - start

        for _ in range(args.block):
            film_page(True)
            film_page(False)
        write_views()
        on, off, writes = [], [], []
        blocks = max(2, args.pages // args.block)
        for number in range(blocks):
            if number % 2:  # half the blocks start with recording off, against drift
                off += [film_page(False) for _ in range(args.block)]
            on += [film_page(True) for _ in range(args.block)]
            writes.append(write_views())
            if not number % 2:
                off += [film_page(False) for _ in range(args.block)]
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(View)) >= args.large
        recording, silent = statistics.median(on), statistics.median(off)
        per_view = statistics.median(writes) / args.block
        work_median = (recording + per_view) / silent
        work_total = (sum(on) + sum(writes)) / sum(off)
        print()
        print(
            f"2. a film page, a new visitor each time, {args.large:,}-view site, "
            f"{blocks} blocks of {args.block}"
        )
        # For reference: every view written in its own request (AURA_VIEW_FLUSH_SECONDS=0).
        app.config["VIEW_FLUSH_SECONDS"] = 0.0
        inline, inline_off = [], []
        for _ in range(max(1, blocks // 3)):
            inline += [film_page(True) for _ in range(args.block)]
            inline_off += [film_page(False) for _ in range(args.block)]
        in_request = statistics.median(inline) / statistics.median(inline_off)
        print(f"   AURA_RECORD_VIEWS=off  median {ms(silent)}")
        print(f"   AURA_RECORD_VIEWS=on   median {ms(recording)}   ratio {recording / silent:5.2f}")
        print(
            f"   writing each block's views: median {ms(statistics.median(writes))} "
            f"({per_view * 1e6:.0f} µs a view)"
        )
        print(
            f"   requests and writes, on against off: ratio {work_median:5.2f} (medians), "
            f"{work_total:5.2f} (totals)"
        )
        print(
            f"   for reference, each view written in its own request "
            f"(AURA_VIEW_FLUSH_SECONDS=0): ratio {in_request:5.2f}"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
