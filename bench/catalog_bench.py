"""Catalog benchmarks, measured side by side in one run and printed as ratios.

    python bench/catalog_bench.py [--films 100000] [--database-url URL] [--seconds 10]

1. Infinite scroll: the page holding item 10,000 against the first page of a row, on a
   100,000-film catalog (keyset cursor), with OFFSET shown for reference.
2. Search on 100,000 films against search on 1,000 films.
3. The home fragment's requests/s against a hello-world route on the same waitress (wrk).

Builds its catalogs in a temporary instance folder (SQLite unless --database-url is given;
that database's schema is dropped and rebuilt). Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa

from aura import MIGRATIONS_DIR, create_app
from aura.extensions import db
from aura.models import Movie
from aura.services import cursors, demo

SEARCH_WORDS = [
    "night",
    "love",
    "dark",
    "king",
    "city",
    "last",
    "house",
    "american",
    "star",
    "dead",
]


def build_app(instance: str, database_url: str | None):
    settings = {
        "CONFIG_NAME": "testing",
        "TESTING": False,
        "INSTANCE_PATH": instance,
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{instance}/bench.sqlite3",
        "CACHE_TYPE": "SimpleCache",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    if database_url:
        engine = sa.create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(settings)
    app.add_url_rule("/bench/hello", "bench_hello", lambda: "hello")
    with app.app_context():
        from flask_migrate import upgrade

        logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration, twice
        upgrade(directory=MIGRATIONS_DIR)
    return app


def vocabulary():
    report = demo.read_catalog()
    words = sorted({w for f in report.films for w in re.findall(r"[a-z]{3,}", f.title.lower())})
    directors = sorted({f.director for f in report.films if f.director})
    return words, directors


def fill(app, count: int, seed: int = 7) -> None:
    """Insert ``count`` synthetic films built from the demo catalog's own words."""
    rng = random.Random(seed)
    words, directors = vocabulary()
    with app.app_context():
        batch = []
        for n in range(count):
            title = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4))).title()
            popularity = round(rng.paretovariate(1.5), 3)
            batch.append(
                {
                    "title": f"{title} {n}" if n % 7 == 0 else title,
                    "overview": " ".join(rng.choice(words) for _ in range(25)),
                    "director": rng.choice(directors),
                    "release_date": date(1930 + n % 90, 1 + n % 12, 1 + n % 28),
                    "source": "local",
                    "popularity": popularity,
                    "popular_score": popularity + rng.randint(0, 3) * 0.1,  # plenty of ties
                    "trending_score": 0.0,
                    "top_rated_score": round(rng.uniform(3, 9), 2),
                    "vote_average": round(rng.uniform(3, 9), 1),
                    "vote_count": rng.randint(0, 5000),
                }
            )
            if len(batch) == 5000:
                db.session.execute(sa.insert(Movie), batch)
                batch.clear()
        if batch:
            db.session.execute(sa.insert(Movie), batch)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE movie"))
            db.session.commit()


def timed(client, url: str, repeat: int) -> float:
    """Median seconds of ``repeat`` GETs (after one warm-up)."""
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 200, url
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, headers={"HX-Request": "true"})
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200
    return statistics.median(samples)


def timed_side_by_side(clients, url: str, repeat: int) -> list[float]:
    """Median seconds of ``repeat`` GETs on each client, taken in turns so that both see the
    same load on a shared machine."""
    samples = [[] for _ in clients]
    for client in clients:
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200, url
    for _ in range(repeat):
        for client, times in zip(clients, samples, strict=True):
            start = time.perf_counter()
            response = client.get(url, headers={"HX-Request": "true"})
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
    return [statistics.median(times) for times in samples]


def cursor_at(app, position: int) -> str:
    with app.app_context():
        row = db.session.execute(
            sa.select(Movie.popular_score, Movie.id)
            .where(Movie.hidden.is_(False))
            .order_by(Movie.popular_score.desc(), Movie.id.desc())
            .offset(position - 1)
            .limit(1)
        ).one()
        return cursors.encode("number", row.popular_score, row.id)


def offset_query_time(app, offset: int, repeat: int) -> float:
    with app.app_context():
        stmt = (
            sa.select(Movie)
            .where(Movie.hidden.is_(False))
            .order_by(Movie.popular_score.desc(), Movie.id.desc())
            .offset(offset)
            .limit(25)
        )
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            db.session.scalars(stmt).all()
            samples.append(time.perf_counter() - start)
            db.session.expunge_all()
        return statistics.median(samples)


def keyset_query_time(app, cursor: str | None, repeat: int) -> float:
    from aura.services import catalog

    with app.app_context():
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            catalog.row_page("popular", after=cursor, limit=24)
            samples.append(time.perf_counter() - start)
            db.session.expunge_all()
        return statistics.median(samples)


def wrk(url: str, seconds: int, cookie: str | None = None) -> float | None:
    if shutil.which("wrk") is None:
        return None
    headers = ["-H", "HX-Request: true", "-H", "User-Agent: Mozilla/5.0 Chrome/131 bench"]
    if cookie:
        headers += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", *headers, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def signed_in_cookie(app) -> str:
    """A viewer's session cookie (signed in through the form), with films on the watchlist."""
    from aura.models import WatchlistEntry
    from aura.services import accounts

    email, password = "bench.viewer@example.com", "granite window harbour 4"
    with app.app_context():
        user = accounts.create_user(email, password)
        popular = db.session.scalars(
            sa.select(Movie.id).order_by(Movie.popular_score.desc()).limit(40)
        ).all()
        for movie_id in popular[::4]:  # a few cards of each row are on the watchlist
            db.session.add(WatchlistEntry(user_id=user.id, movie_id=movie_id))
        db.session.commit()
    client = app.test_client()
    page = client.get("/auth/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})
    return f"aura_session={client.get_cookie('aura_session').value}"


def serve(app):
    from waitress.server import create_server

    # wrk keeps more requests waiting than there are threads: waitress says so for each.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="bench")
    threading.Thread(target=server.run, daemon=True).start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--films", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds of the home figures")
    parser.add_argument("--sections", default="1,2,3", help="which comparisons, e.g. 3 or 2,3")
    args = parser.parse_args()
    sections = {int(part) for part in args.sections.split(",")}
    logging.getLogger("alembic").setLevel(logging.WARNING)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"Aura catalog benchmark — {backend}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}"
    )

    with tempfile.TemporaryDirectory() as small_dir, tempfile.TemporaryDirectory() as big_dir:
        small = build_app(small_dir, None)
        fill(small, args.small)
        big = build_app(big_dir, args.database_url)
        started = time.perf_counter()
        fill(big, args.films)
        print(f"built {args.films:,} films in {time.perf_counter() - started:.1f}s\n")

        client = big.test_client()
        if 1 in sections:
            infinite_scroll(big, client, args)
        if 2 in sections:
            search_growth(small, client, args)
        if 3 in sections:
            home_rate(big, args)


def infinite_scroll(big, client, args) -> None:
    deep = cursor_at(big, 10_000)
    first_t = timed(client, "/rows/popular", args.repeat)
    deep_t = timed(client, f"/rows/popular?after={deep}", args.repeat)
    key_first = keyset_query_time(big, None, args.repeat)
    key_deep = keyset_query_time(big, deep, args.repeat)
    off_first = offset_query_time(big, 0, args.repeat)
    off_deep = offset_query_time(big, 10_000, args.repeat)
    print("1. infinite scroll, item 10,000 vs first page")
    print(
        f"   fragment request   first {first_t * 1000:7.2f} ms   deep {deep_t * 1000:7.2f} ms"
        f"   ratio {deep_t / first_t:5.2f}"
    )
    print(
        f"   keyset query       first {key_first * 1000:7.2f} ms   "
        f"deep {key_deep * 1000:7.2f} ms"
        f"   ratio {key_deep / key_first:5.2f}"
    )
    print(
        f"   OFFSET (reference) first {off_first * 1000:7.2f} ms   "
        f"deep {off_deep * 1000:7.2f} ms"
        f"   ratio {off_deep / off_first:5.2f}\n"
    )


def search_growth(small, client, args) -> None:
    small_client = small.test_client()
    ratios = []
    print(f"2. search, {args.films:,} films vs {args.small:,} films")
    for word in SEARCH_WORDS[:5]:
        t_big, t_small = timed_side_by_side(
            (client, small_client), f"/search?q={word}", max(5, args.repeat // 2)
        )
        ratios.append(t_big / t_small)
        print(
            f"   q={word:<9} {args.films:,}: {t_big * 1000:7.2f} ms   {args.small:,}: "
            f"{t_small * 1000:7.2f} ms   ratio {t_big / t_small:5.2f}"
        )
    print(
        f"   median ratio {statistics.median(ratios):.2f} "
        f"(films ratio {args.films / args.small:.0f})\n"
    )


def anonymous_cookie(app) -> str:
    """The session cookie an anonymous browser holds once it has seen a page or two: its CSRF
    token, and Flask-Login's note that the session is not a fresh sign-in (written on the
    second page, so a cookie from the first page alone would be re-signed on every request)."""
    client = app.test_client()
    for _ in range(2):
        client.get("/", headers={"HX-Request": "true"})
    return f"aura_session={client.get_cookie('aura_session').value}"


def home_rate(big, args) -> None:
    """Each kind of request in turn, ``args.rounds`` times, so all of them see the same load;
    each ratio is the median of the rounds' ratios to that round's hello world."""
    signed_in, anonymous = signed_in_cookie(big), anonymous_cookie(big)
    server, base = serve(big)
    kinds = {"anonymous": anonymous, "signed in": signed_in, "first visit": None}
    rounds: list[dict[str, float]] = []
    try:
        for _ in range(args.rounds):
            hello = wrk(f"{base}/bench/hello", args.seconds)
            if hello is None:
                break
            rates = {name: wrk(f"{base}/", args.seconds, cookie) for name, cookie in kinds.items()}
            rounds.append({"hello": hello, **rates})
    finally:
        time.sleep(1)  # let waitress finish what wrk left queued before closing
        logging.getLogger("waitress").setLevel(logging.CRITICAL)
        server.close()
    print(
        f"3. home fragment vs hello world, same waitress (4 threads), wrk -t2 -c16, "
        f"{args.rounds} rounds of {args.seconds} s each"
    )
    if not rounds:
        print("   wrk not found: install it with `apt-get install wrk`")
        return
    hellos = [one["hello"] for one in rounds]
    print(f"   hello world       {statistics.median(hellos):8.1f} req/s (median of the rounds)")
    for name in kinds:
        rate = statistics.median(one[name] for one in rounds)
        ratios = [one[name] / one["hello"] for one in rounds]
        each = " ".join(f"{ratio:.3f}" for ratio in ratios)
        print(
            f"   home, {name:<11} {rate:8.1f} req/s   ratio {statistics.median(ratios):5.3f}"
            f"   (rounds: {each})"
        )
    print(
        "   (anonymous: a browser with the cookie its first pages set; first visit: no cookie,"
        " so every request makes a session)"
    )


if __name__ == "__main__":
    main()
