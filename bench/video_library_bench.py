"""Video library benchmarks, measured side by side in one run and printed as ratios.

    python bench/video_library_bench.py [--videos 20000] [--small 1000] [--database-url URL]

1. Scrolling /videos: the page holding video 10,000 against the first page, for each sort.
2. Searching titles and descriptions (a LIKE scan) on --videos against --small videos.

Builds its libraries in temporary instance folders (SQLite unless --database-url is given;
that database's schema is dropped and rebuilt). No network.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa
from catalog_bench import build_app, timed, vocabulary

from aura.extensions import db
from aura.models import Video
from aura.services import cursors, videos

SEARCH_WORDS = ["night", "love", "dark", "zzzz"]  # the last matches nothing: a full scan


def fill(app, count: int, seed: int = 11) -> None:
    """``count`` video rows built from the demo catalog's words, with many shared upload
    moments and view counts (ties the keyset must page through)."""
    rng = random.Random(seed)
    words, _directors = vocabulary()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context():
        batch = []
        for n in range(count):
            batch.append(
                {
                    "id": uuid.UUID(int=rng.getrandbits(128)),
                    "title": " ".join(rng.choice(words) for _ in range(rng.randint(1, 5))),
                    "description": " ".join(rng.choice(words) for _ in range(30)),
                    "storage_key": uuid.uuid4().hex,
                    "content_type": "video/mp4",
                    "size": 1000,
                    "sha256": "0" * 64,
                    "password_hash": "h" if n % 5 == 0 else None,
                    "uploaded_at": start + timedelta(minutes=n // 3),
                    "updated_at": start,
                    "view_count": int(rng.paretovariate(1.2)),
                    "duration_seconds": rng.choice([None, 30.0, 95.5, 3600.0]),
                }
            )
            if len(batch) == 5000:
                db.session.execute(sa.insert(Video), batch)
                batch.clear()
        if batch:
            db.session.execute(sa.insert(Video), batch)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE video"))
            db.session.commit()


def cursor_at(app, sort: str, position: int) -> str:
    """The cursor a browser holds after scrolling past ``position`` videos."""
    spec = videos.LIBRARY_SORTS[sort]
    with app.app_context():
        key = spec.key.label("key")
        order = (key.desc(), Video.id.desc()) if spec.descending else (key, Video.id)
        row = db.session.execute(
            sa.select(key, Video.id).order_by(*order).offset(position - 1).limit(1)
        ).one()
        return cursors.encode(spec.kind, row.key, row.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"Aura video library benchmark — {backend}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory() as small_dir, tempfile.TemporaryDirectory() as big_dir:
        small = build_app(small_dir, None)
        fill(small, args.small)
        big = build_app(big_dir, args.database_url)
        started = time.perf_counter()
        fill(big, args.videos)
        print(f"built {args.videos:,} videos in {time.perf_counter() - started:.1f}s\n")
        client, small_client = big.test_client(), small.test_client()

        print("1. /videos, the page after video 10,000 vs the first page (fragment requests)")
        for sort in videos.LIBRARY_SORTS:
            deep = cursor_at(big, sort, 10_000)
            first_t = timed(client, f"/videos?sort={sort}", args.repeat)
            deep_t = timed(client, f"/videos?sort={sort}&after={deep}", args.repeat)
            print(
                f"   sort={sort:<7} first {first_t * 1000:7.2f} ms   deep {deep_t * 1000:7.2f} ms"
                f"   ratio {deep_t / first_t:5.2f}"
            )

        print(f"\n2. search, {args.videos:,} videos vs {args.small:,} videos")
        ratios = []
        for word in SEARCH_WORDS:
            t_big = timed(client, f"/videos?q={word}", max(5, args.repeat // 3))
            t_small = timed(small_client, f"/videos?q={word}", max(5, args.repeat // 3))
            ratios.append(t_big / t_small)
            print(
                f"   q={word:<6} {args.videos:,}: {t_big * 1000:7.2f} ms   {args.small:,}: "
                f"{t_small * 1000:7.2f} ms   ratio {t_big / t_small:5.2f}"
            )
        print(
            f"   median ratio {statistics.median(ratios):.2f} "
            f"(videos ratio {args.videos / args.small:.0f})"
        )


if __name__ == "__main__":
    main()
