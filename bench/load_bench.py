"""Load benchmark: a bounded mixed load from Locust (headless) against a real `aura serve`.

    python bench/load_bench.py [--db sqlite|postgresql] [--users 50] [--seconds 60]

Builds a site in a temporary folder (the migrations, the demo catalog of 3,200 films, four
64 MiB videos linked to films, one viewer account per simulated user), starts `aura serve`
(waitress, its default 8 threads) on a free loopback port and lets Locust's viewers browse
(home, rows and their infinite-scroll pages, film pages), search, rate, toggle their watchlist,
play videos with range requests (a probe, a seek, a stream left half read) and report their
positions (bench/load_client.py). Then it checks, and prints:

- no answer was a 5xx, and the server logged no unhandled exception;
- every write a viewer was told succeeded is in the database: ratings, watchlist entries,
  positions, film page views, plays (one per access grant that streamed).

--db postgresql uses --database-url (default the bench database aura_load on the local
server; its public schema is dropped and rebuilt) and Redis for cache and limits (--redis-url,
default db 13). Needs the `bench` extra: pip install -e '.[bench]'. Traffic stays on 127.0.0.1
and stops by itself after --seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load_client import PASSWORD, Catalog, Ledger, Report, check  # noqa: E402

MIB = 1024 * 1024
VIDEO_SIZE = 64 * MIB
VIDEO_SECONDS = 600.0
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/aura_load"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 60) -> None:
    """Until something listens on ``port``; SystemExit when ``process`` stops or time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} stopped while starting")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not start listening")


def load_average() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


# -- the site ------------------------------------------------------------------------------------


def site_env(instance: str, database_url: str | None, redis_url: str | None, **extra) -> dict:
    """The environment `aura` runs with: development config (plain-HTTP cookies), everything
    in ``instance``, request lines off (they would cost the server a write per request)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AURA_")}
    env.update(
        AURA_CONFIG="development",
        AURA_INSTANCE_PATH=instance,
        AURA_SECRET_KEY="load-bench-secret-key",
        AURA_DATABASE_URL=database_url or f"sqlite:///{instance}/aura.sqlite3",
        AURA_REQUEST_LOG="0",
        AURA_BACKGROUND_JOBS="off",
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["AURA_REDIS_URL"] = redis_url
    env.update({k: str(v) for k, v in extra.items()})
    return env


def reset_postgres(url: str) -> None:
    import sqlalchemy as sa

    from config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def aura(env: dict, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "aura"), *args], env=env, cwd=ROOT, check=check, text=True, **kwargs
    )


def build_site(env: dict, viewers: list[str]) -> Catalog:
    """Migrate, load the demo catalog, add videos and viewer accounts. Returns what the
    viewers pick from."""
    import sqlalchemy as sa

    aura(env, "db", "upgrade", capture_output=True)
    aura(env, "load-demo", "--quiet", capture_output=True)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from aura import create_app
        from aura.extensions import db
        from aura.models import Movie, Video
        from aura.services import passwords

        app = create_app()
        with app.app_context():
            password_hash = passwords.hash_password(PASSWORD)  # once: scrypt is slow on purpose
            add_viewers(viewers, password_hash)
            films = db.session.scalars(
                sa.select(Movie.id).order_by(Movie.popularity.desc(), Movie.id).limit(400)
            ).all()
            media = app.config["MEDIA_DIR"]
            os.makedirs(media, exist_ok=True)
            videos = []
            for n, movie_id in enumerate(films[:4]):
                key = uuid.uuid4().hex
                path = os.path.join(media, key)
                with open(path, "wb") as fh:
                    fh.write(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41")
                os.truncate(path, VIDEO_SIZE)  # sparse
                video = Video(
                    id=uuid.uuid4(),
                    movie_id=movie_id,
                    title=f"Load reel {n}",
                    storage_key=key,
                    content_type="video/mp4",
                    size=VIDEO_SIZE,
                    sha256="0" * 64,
                    duration_seconds=VIDEO_SECONDS,
                )
                db.session.add(video)
                videos.append((str(video.id), VIDEO_SIZE, VIDEO_SECONDS))
            db.session.commit()
            db.engine.dispose()
        return Catalog(list(films), videos)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def add_viewers(emails: list[str], password_hash: str) -> None:
    """Viewer accounts with one shared password hash (inside an app context). Commits."""
    import sqlalchemy as sa

    from aura.extensions import db
    from aura.models import User

    if not emails:
        return
    db.session.execute(
        sa.insert(User),
        [
            {
                "email": email,
                "display_name": email.split("@")[0],
                "password_hash": password_hash,
                "role": "viewer",
            }
            for email in emails
        ],
    )
    db.session.commit()


def new_viewers(env: dict, emails: list[str]) -> None:
    """More viewer accounts on a site that is already built (each fault's own viewers)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from aura import create_app
        from aura.extensions import db
        from aura.models import User
        from aura.services import passwords

        app = create_app()
        with app.app_context():
            known = db.session.scalar(db.select(User.password_hash).limit(1))
            add_viewers(emails, known or passwords.hash_password(PASSWORD))
            db.engine.dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Server:
    """`aura serve` on a free loopback port; its standard error goes to ``log``."""

    def __init__(self, env: dict, log: Path, port: int | None = None, threads: int = 0) -> None:
        self.env, self.log = env, log
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.threads = threads
        self.start()

    def start(self) -> None:
        command = [str(BIN / "aura"), "serve", "--port", str(self.port)]
        if self.threads:
            command += ["--threads", str(self.threads)]
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for_port(self.port, self.process, f"aura serve (see {self.log})")

    def stop(self) -> None:
        """Ctrl+C, as systemd's KillSignal=SIGINT: the process writes its pending views."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def unhandled(self) -> int:
        """Unhandled exceptions the server logged: Aura's own error handler's, Flask's (an
        error handler that failed itself) and waitress's (an error past the app)."""
        lines = self.log.read_text(errors="replace").splitlines()
        starts = ("unhandled error on", "Exception on ", "Exception while serving")
        return sum(1 for line in lines if line.startswith(starts))


# -- the load ------------------------------------------------------------------------------------


def run_locust(
    url: str, catalog: Catalog, emails: list[str], users: int, seconds: int, workdir: Path
) -> tuple[list[Ledger], str]:
    """Locust headless for ``seconds``; the viewers' ledgers and Locust's summary."""
    tag = uuid.uuid4().hex[:8]
    plan, ledgers = workdir / f"plan-{tag}.json", workdir / f"ledgers-{tag}.json"
    plan.write_text(json.dumps({"catalog": catalog.to_json(), "emails": emails}))
    env = dict(os.environ, AURA_LOAD_PLAN=str(plan), AURA_LOAD_LEDGERS=str(ledgers))
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 5)),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--host",
        url,
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if not ledgers.exists():
        raise SystemExit(f"locust wrote no ledgers (exit {done.returncode}):\n{done.stderr}")
    found = [Ledger.from_json(item) for item in json.loads(ledgers.read_text())]
    return found, done.stdout + done.stderr


def summary_table(locust_output: str) -> str:
    """Locust's aggregated line and its percentiles' aggregated line."""
    lines = [line for line in locust_output.splitlines() if "Aggregated" in line]
    return "\n".join("   " + line.strip() for line in lines)


def verify(env: dict, ledgers: list[Ledger], server: Server, settle: float = 3.0) -> Report:
    """Wait for the view writer, then compare the ledgers with the database."""
    import sqlalchemy as sa

    from config import normalise_database_url

    time.sleep(settle)  # film page views are written behind the requests, every second
    engine = sa.create_engine(normalise_database_url(env["AURA_DATABASE_URL"]))
    try:
        report = check(engine, ledgers)
    finally:
        engine.dispose()
    report.unhandled = server.unhandled()
    return report


def emails_for(tag: str, count: int) -> list[str]:
    return [f"{tag}-{n}@load.example" for n in range(count)]


def print_report(label: str, report: Report, table: str = "") -> None:
    print(f"{label}\n   {report.summary()}")
    print(f"   unhandled exceptions logged: {report.unhandled}")
    if table:
        print(table)


def database_for(args: argparse.Namespace, instance: str) -> tuple[str | None, str | None]:
    if args.db == "postgresql":
        url = args.database_url or DEFAULT_PG
        reset_postgres(url)
        return url, args.redis_url or DEFAULT_REDIS
    return None, args.redis_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--database-url", help=f"with --db postgresql (default {DEFAULT_PG})")
    parser.add_argument("--redis-url", help=f"default with postgresql: {DEFAULT_REDIS}")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if shutil.which("locust", path=str(BIN)) is None:
        raise SystemExit("Locust is not installed: pip install -e '.[bench]'")

    workdir = Path(tempfile.mkdtemp(prefix="aura-load-bench-"))
    instance = str(workdir / "instance")
    os.makedirs(instance)
    server = None
    try:
        database_url, redis_url = database_for(args, instance)
        env = site_env(instance, database_url, redis_url)
        emails = emails_for("viewer", args.users)
        catalog = build_site(env, emails)
        server = Server(env, workdir / "server.log")
        print(
            f"Load benchmark: {args.users} viewers for {args.seconds} s, {args.db}"
            f"{' + Redis' if redis_url else ''}, aura serve (8 threads), {os.cpu_count()} cores, "
            f"{date.today()}, load average before {load_average()}"
        )
        ledgers, output = run_locust(server.url, catalog, emails, args.users, args.seconds, workdir)
        load_after = load_average()
        report = verify(env, ledgers, server)
        print_report(f"\nload average after {load_after}", report, summary_table(output))
        failed = report.five_xx or report.lost or report.unhandled
        print("\nFAILED" if failed else "\nOK: no 5xx, no lost writes")
        if failed:
            sys.exit(1)
    finally:
        if server:
            server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
