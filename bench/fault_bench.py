"""Faults during the load benchmark's load: each must be survived with no 5xx that the fault
does not explain and nothing lost.

    python bench/fault_bench.py [--db sqlite|postgresql] [--users 20] [--seconds 30]
                                [--faults tmdb-down,tmdb-slow,tmdb-429,postgres-restart,...]

Each fault gets its own viewer accounts and its own Locust run (bench/load_bench.py's viewers)
against `aura serve`, then the same check: every write the viewers were told succeeded is in
the database. The faults:

- tmdb-down, tmdb-slow, tmdb-429: TMDB configured (AURA_TMDB_API_BASE) and pointed at a local
  fake TMDB serving the recorded bodies in tests/data/tmdb, which for the whole run refuses
  connections, answers each request after 4 s, or answers 429 with Retry-After.
- postgres-restart: the site on a throwaway PostgreSQL cluster (initdb under /tmp as user
  postgres, a free port), restarted (pg_ctl restart -m fast) in the middle of the run. Answers
  of 503 while it is down are the site saying so; anything else of 5xx is a defect.
- redis-restart: cache and limits on a throwaway redis-server, stopped in the middle of the
  run and started again two seconds later. Browsing fails open (the cache misses), so the
  viewers must see no 5xx; sign-in fails closed (its throttle cannot count), so a sign-in
  while Redis is down is a 503 with Retry-After, by rule, and must succeed again after.
- drops: beside the viewers, clients that reset their connection mid-stream, and a supervisor
  whose uploads are cut off mid-body; afterwards no video row, no file and no open handle may be
  left of them, and a whole upload still works.
- disk-full: the media folder on a small filesystem (a tmpfs, mounted as root, holding the
  site's videos with 10 MiB to spare) while a supervisor uploads 4 MiB files beside the load
  until the disk is full: a refused upload answers 507 and leaves no file and no row, the
  viewers see no 5xx, and once a video is deleted an upload fits again.
- backup: `aura backup` taken in the middle of the run, then `aura backup --verify` on it,
  then `aura restore` of it into a fresh site (a new instance folder, a new database).

Prints, per fault: requests, 5xx (by status), lost writes. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import load_bench as lb  # noqa: E402
from load_client import BROWSER_UA, Report  # noqa: E402

FAULTS = (
    "tmdb-down",
    "tmdb-slow",
    "tmdb-429",
    "postgres-restart",
    "redis-restart",
    "drops",
    "disk-full",
    "backup",
)
TMDB_DATA = ROOT / "tests" / "data" / "tmdb"
SUPERVISOR = "supervisor@load.example"
DROPPER = "dropper@load.example"  # the viewer whose streams are cut off (not in any ledger)
SIGNER = "signer@load.example"  # signs in again and again through a Redis restart


# -- a fake TMDB ---------------------------------------------------------------------------------


class FakeTMDB:
    """The recorded TMDB bodies over HTTP on a free port; ``mode`` is ok, slow or 429."""

    ROUTES = {
        "/3/configuration": "configuration/api.json",
        "/3/genre/movie/list": "genres/movie_list.json",
        "/3/trending/movie/week": "trending/movie.json",
        "/3/movie/popular": "movies/popular.json",
        "/3/movie/top_rated": "movies/top_rated.json",
        "/3/movie/upcoming": "movies/upcoming.json",
        "/3/search/movie": "search/movie.json",
    }

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests += 1
                path = self.path.split("?", 1)[0]
                if fake.mode == "slow":
                    time.sleep(4)
                if fake.mode == "429":
                    body, status = {"status_code": 25, "status_message": "Too many"}, 429
                elif path in fake.ROUTES:
                    body, status = _recorded(fake.ROUTES[path]), 200
                elif re.fullmatch(r"/3/movie/[0-9]+/videos", path):
                    body, status = _recorded("movies/videos.json"), 200
                elif re.fullmatch(r"/3/movie/[0-9]+", path):
                    body, status = _recorded("movies/details.json"), 200
                else:
                    body, status = {"status_code": 34, "status_message": "Not found"}, 404
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("Retry-After", "2")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # Aura gives up on a slow answer within its search budget: the write then finds the
        # connection closed, which is the point, not an error.
        self.server.handle_error = lambda request, address: None
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}/3"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _recorded(name: str) -> dict:
    return json.loads((TMDB_DATA / name).read_text(encoding="utf-8"))


# -- throwaway PostgreSQL and Redis --------------------------------------------------------------


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own under /tmp, run as user postgres on a free port."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "pg"
        self.dir.mkdir()
        shutil.chown(self.dir, "postgres", "postgres")
        self.data, self.log = self.dir / "data", self.dir / "log"
        self.port = lb.free_port()
        self._as_postgres("initdb", "-A", "trust", "-U", "postgres", "-D", str(self.data))
        self._pg_ctl("start")
        self._as_postgres(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "aura"
        )
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/aura"

    def _as_postgres(self, *command: str) -> None:
        binary = shutil.which(command[0]) or command[0]
        subprocess.run(
            ["runuser", "-u", "postgres", "--", binary, *command[1:]],
            check=True,
            capture_output=True,
            cwd="/tmp",
        )

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            "pg_ctl", action, "-w", "-D", str(self.data), "-l", str(self.log), "-o", options,
            *extra,
        )  # fmt: skip

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("stop", "-m", "fast")


class ThrowawayRedis:
    def __init__(self) -> None:
        self.port = lb.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        lb.wait_for_port(self.port, self.process, "redis-server", seconds=10)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# -- clients that leave ----------------------------------------------------------------------------


def sign_in(url: str, email: str) -> str:
    """A session cookie of ``email`` signed in through the form."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = BROWSER_UA
    page = session.get(f"{url}/auth/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{url}/auth/login",
        data={"email": email, "password": lb.PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 303:
        raise SystemExit(f"could not sign in as {email} ({answer.status_code})")
    return session


def _reset(sock: socket.socket) -> None:
    """Close with a reset, as a killed browser tab or a lost network does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


class Droppers:
    """Streams reset after 128 KiB and uploads reset after 2 MiB of a 16 MiB body, in a loop."""

    def __init__(self, url: str, video_id: str) -> None:
        self.port = int(url.rsplit(":", 1)[1])
        self.video_id = video_id
        self.viewer = sign_in(url, DROPPER)
        self.viewer.get(f"{url}/watch/{video_id}", timeout=30)
        self.supervisor = sign_in(url, SUPERVISOR)
        form = self.supervisor.get(f"{url}/supervisor/videos/new", timeout=30)
        self.upload_token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        self.streams = self.uploads = 0
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._streams, daemon=True),
            threading.Thread(target=self._uploads, daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def _cookie(session) -> str:
        return "; ".join(f"{k}={v}" for k, v in session.cookies.items())

    def _streams(self) -> None:
        cookie = self._cookie(self.viewer)
        while not self.stopping.wait(0.2):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            sock.sendall(
                f"GET /stream/{self.video_id} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                f"User-Agent: {BROWSER_UA}\r\nRange: bytes={self.streams * 4096}-\r\n\r\n".encode()
            )
            got = 0
            while got < 128 * 1024:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
            _reset(sock)
            self.streams += 1

    def _uploads(self) -> None:
        cookie = self._cookie(self.supervisor)
        boundary = "aura-drop-" + uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{self.upload_token}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nCut off\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode() + b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
        declared = len(head) + 16 * lb.MIB
        while not self.stopping.wait(0.5):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            sock.sendall(
                (
                    "POST /supervisor/videos/new HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Cookie: {cookie}\r\nUser-Agent: {BROWSER_UA}\r\n"
                    f"X-CSRFToken: {self.upload_token}\r\n"
                    f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                    f"Content-Length: {declared}\r\n\r\n"
                ).encode()
                + head
            )
            for _ in range(2):
                sock.sendall(bytes(lb.MIB))
            _reset(sock)
            self.uploads += 1

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


class SignIns:
    """A browser signing in through the form twice a second (the throttle's storage is used)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.statuses: dict[int, int] = {}
        self.last = 0  # the status of the latest sign-in
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import requests

        while not self.stopping.wait(0.5):
            session = requests.Session()
            try:
                page = session.get(f"{self.url}/auth/login", timeout=30)
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
                answer = session.post(
                    f"{self.url}/auth/login",
                    data={"email": SIGNER, "password": lb.PASSWORD,
                          "csrf_token": token.group(1) if token else ""},
                    allow_redirects=False,
                    timeout=30,
                )  # fmt: skip
                status = answer.status_code
            except requests.RequestException:
                status = 0
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.last = status

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=60)

    def add_to(self, report: Report) -> None:
        for status, n in self.statuses.items():
            report.requests += n
            report.by_status[status] += n
            if status >= 500:
                report.server_errors[("sign-in loop", status)] += n


class Fillers:
    """A supervisor uploading 4 MiB videos through the form every half second (disk-full)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = sign_in(url, SUPERVISOR)
        ftyp = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
        size = 4 * lb.MIB
        # An MP4 head the content check accepts: ftyp, then one "free" box holding the rest.
        self.body = ftyp + (size - len(ftyp)).to_bytes(4, "big") + b"free" + bytes(size - 40)
        self.statuses: dict[int, int] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.wait(0.5):
            form = self.session.get(f"{self.url}/supervisor/videos/new", timeout=30)
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
            answer = self.session.post(
                f"{self.url}/supervisor/videos/new",
                data={"csrf_token": token, "title": "Filler"},
                files={"file": ("filler.mp4", self.body, "video/mp4")},
                allow_redirects=False,
                timeout=60,
            )
            self.statuses[answer.status_code] = self.statuses.get(answer.status_code, 0) + 1

    def delete(self, video_id: str) -> int:
        page = self.session.get(f"{self.url}/supervisor/videos/{video_id}/edit", timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        answer = self.session.post(
            f"{self.url}/supervisor/videos/{video_id}/delete",
            data={"csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )
        return answer.status_code

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=120)


def whole_upload(url: str, session) -> int:
    """One complete small upload through the form: its answer's status."""
    form = session.get(f"{url}/supervisor/videos/new", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    data = (ROOT / "aura" / "data" / "samples" / "aura-sample.mp4").read_bytes()
    answer = session.post(
        f"{url}/supervisor/videos/new",
        data={"csrf_token": token, "title": "Whole upload"},
        files={"file": ("whole.mp4", data, "video/mp4")},
        allow_redirects=False,
        timeout=60,
    )
    return answer.status_code


def open_media_files(pid: int, media: str) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith(media)
        except OSError:
            continue
    return count


# -- the runs ------------------------------------------------------------------------------------


def at(seconds: float, action) -> threading.Thread:
    """Run ``action`` after ``seconds`` (beside the load); its result goes in ``.result``."""

    def run() -> None:
        time.sleep(seconds)
        try:
            thread.result = action()
        except Exception as error:
            thread.result = error

    thread = threading.Thread(target=run, daemon=True)
    thread.result = None
    thread.start()
    return thread


def explain_5xx(report: Report, allowed: set[int]) -> int:
    """5xx answers the fault does not explain (``allowed`` statuses are the site saying so)."""
    return sum(n for (_name, status), n in report.server_errors.items() if status not in allowed)


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args, self.workdir = args, workdir
        self.results: list[tuple[str, Report, str, bool]] = []
        self.cleanup: list = []
        self.env: dict | None = None
        self.catalog = None

    def site(self) -> tuple[dict, object]:
        """The shared site (built once) for every fault but postgres-restart."""
        if self.env is None:
            instance = str(self.workdir / "instance")
            os.makedirs(instance)
            database_url, _redis = lb.database_for(self.args, instance)
            self.env = lb.site_env(instance, database_url, None)
            self.catalog = lb.build_site(self.env, [SUPERVISOR, DROPPER, SIGNER])
            _make_supervisor(self.env)
        return self.env, self.catalog

    def load(self, fault: str, env: dict, catalog, during=None, after=None):
        """The viewers' load against a server of ``env``; ``during(server)`` starts beside it
        (a thread it returns is waited for), ``after(server)`` runs before the server stops."""
        emails = lb.emails_for(f"viewer-{fault}", self.args.users)
        lb.new_viewers(env, emails)
        server = lb.Server(env, self.workdir / f"server-{fault}.log")
        self.cleanup.append(server)
        try:
            extra = during(server) if during else None
            ledgers, _output = lb.run_locust(
                server.url, catalog, emails, self.args.users, self.args.seconds, self.workdir
            )
            if isinstance(extra, threading.Thread):
                extra.join(timeout=120)
            if after:
                after(server)
            report = lb.verify(env, ledgers, server)
            return report, server, extra
        finally:
            server.stop()
            self.cleanup.remove(server)

    def record(self, fault: str, report: Report, notes: str, ok: bool) -> None:
        self.results.append((fault, report, notes, ok))
        print(f"\n{fault}: {'survived' if ok else 'FAILED'}   (load average {lb.load_average()})")
        print(f"   {report.summary()}")
        print(f"   unhandled exceptions logged: {report.unhandled}")
        if notes:
            print(f"   {notes}")

    # -- each fault ------------------------------------------------------------------------------

    def tmdb(self, fault: str) -> None:
        env, catalog = self.site()
        fake = FakeTMDB({"tmdb-slow": "slow", "tmdb-429": "429"}.get(fault, "ok"))
        base = fake.base
        if fault == "tmdb-down":
            fake.stop()  # nothing listens there any more: connections are refused
        env = dict(env, AURA_TMDB_API_KEY="load-bench-key", AURA_TMDB_API_BASE=base)
        try:
            report, _server, _ = self.load(fault, env, catalog)
        finally:
            if fault != "tmdb-down":
                fake.stop()
        unexplained = explain_5xx(report, set())
        ok = not (unexplained or report.lost or report.unhandled)
        self.record(fault, report, f"fake TMDB saw {fake.requests} requests", ok)

    def postgres_restart(self, fault: str) -> None:
        pg = ThrowawayPostgres(self.workdir)
        self.cleanup.append(pg)
        instance = str(self.workdir / "instance-pg")
        os.makedirs(instance)
        env = lb.site_env(instance, pg.url, None)
        catalog = lb.build_site(env, [])
        timing = {}

        def during(_server):
            def restart():
                started = time.monotonic()
                pg.restart()
                timing["seconds"] = time.monotonic() - started

            return at(self.args.seconds * 0.4, restart)

        report, _server, thread = self.load(fault, env, catalog, during)
        unexplained = explain_5xx(report, {503})
        ok = not (unexplained or report.lost or report.unhandled) and thread.result is None
        notes = (
            f"restarted in {timing.get('seconds', float('nan')):.1f} s; "
            f"{sum(n for (_, st), n in report.server_errors.items() if st == 503)} answers of "
            "503 while it was down"
            + (f"; restart failed: {thread.result}" if thread.result else "")
        )
        self.record(fault, report, notes, ok)
        pg.stop()
        self.cleanup.remove(pg)

    def redis_restart(self, fault: str) -> None:
        env, catalog = self.site()
        redis = ThrowawayRedis()
        self.cleanup.append(redis)
        env = dict(env, AURA_REDIS_URL=redis.url)
        signing = {}

        def during(server):
            signing["loop"] = SignIns(server.url)

            def restart():
                redis.stop()
                time.sleep(2)
                redis.start()

            return at(self.args.seconds * 0.4, restart)

        report, _server, thread = self.load(
            fault, env, catalog, during, after=lambda _server: signing["loop"].stop()
        )
        loop = signing["loop"]
        loop.add_to(report)
        # A sign-in refused with 503 while its throttle cannot count is the rule (fail closed),
        # the loop's or a viewer's own as it starts.
        sign_ins = ("sign-in loop", "/auth/login [post]")
        unexplained = sum(
            n
            for (name, status), n in report.server_errors.items()
            if not (name in sign_ins and status == 503)
        )
        recovered = loop.last == 303
        ok = (
            not (unexplained or report.lost or report.unhandled)
            and recovered
            and thread.result is None
        )
        self.record(
            fault,
            report,
            "Redis (cache and limits) down for 2 s at 40% of the run; sign-ins beside the "
            f"load answered {loop.statuses} (503: refused while the throttle could not count; "
            f"signing in works again after: {'yes' if recovered else 'NO'})",
            ok,
        )
        redis.stop()
        self.cleanup.remove(redis)

    def drops(self, fault: str) -> None:
        env, catalog = self.site()
        media = os.path.realpath(os.path.join(env["AURA_INSTANCE_PATH"], "media"))
        before = set(os.listdir(media))
        state = {}

        def during(server):
            state["droppers"] = Droppers(server.url, catalog.videos[0][0])

        def after(server):
            droppers = state["droppers"]
            droppers.stop()
            time.sleep(1)
            state["handles"] = open_media_files(server.process.pid, media)
            state["whole"] = whole_upload(server.url, droppers.supervisor)

        report, _server, _ = self.load(fault, env, catalog, during, after)
        droppers = state["droppers"]
        stored = set(_column(env, "SELECT storage_key FROM video"))
        left = set(os.listdir(media)) - before - stored
        rows = _count(env, "SELECT count(*) FROM video WHERE title = 'Cut off'")
        handles = state.get("handles", -1)
        ok = not (report.five_xx or report.lost or report.unhandled or left or rows or handles)
        ok = ok and state.get("whole") == 303
        notes = (
            f"{droppers.streams} streams and {droppers.uploads} uploads cut off; left behind: "
            f"{len(left)} files, {rows} video rows, {handles} open media files; a whole upload "
            f"afterwards answered {state.get('whole')}"
        )
        self.record(fault, report, notes, ok)

    def disk_full(self, fault: str) -> None:
        env, catalog = self.site()
        media = os.path.join(env["AURA_INSTANCE_PATH"], "media")
        used = sum(
            os.path.getsize(os.path.join(folder, name))
            for folder, _dirs, names in os.walk(media)
            for name in names
        )
        small = self.workdir / "small-disk"
        small.mkdir()
        size = used + 10 * lb.MIB
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(small)],
            capture_output=True,
            text=True,
        )
        if mounted.returncode != 0:
            print(f"\n{fault}: skipped: cannot mount a tmpfs ({mounted.stderr.strip()})")
            return
        try:
            shutil.copytree(media, small / "media")
            env = dict(env, AURA_MEDIA_DIR=str(small / "media"))
            state = {}

            def during(server):
                state["fillers"] = Fillers(server.url)

            def after(server):
                fillers = state["fillers"]
                fillers.stop()
                state["parts"] = [
                    name for name in os.listdir(small / "media") if name.endswith(".part")
                ]
                state["serving"] = fillers.session.get(f"{server.url}/", timeout=30).status_code
                kept = _column(env, "SELECT id FROM video WHERE title = 'Filler'")
                state["deleted"] = fillers.delete(str(uuid.UUID(str(kept[0])))) if kept else None
                state["after"] = whole_upload(server.url, fillers.session)

            report, _server, _ = self.load(fault, env, catalog, during, after)
            fillers = state["fillers"]
            rows = _count(env, "SELECT count(*) FROM video WHERE title = 'Filler'")
            stored = fillers.statuses.get(303, 0)
            ok = not (report.five_xx or report.lost or report.unhandled or state["parts"])
            ok = ok and fillers.statuses.get(507, 0) > 0 and rows == stored - 1
            ok = ok and state["serving"] == 200 and state["after"] == 303
            notes = (
                f"a {size / lb.MIB:.0f} MiB media disk; uploads of 4 MiB answered "
                f"{dict(sorted(fillers.statuses.items()))}; {rows + 1} stored, one deleted after; "
                f"upload temp files left: {len(state['parts'])}; the home page while full: "
                f"{state['serving']}; an upload after the delete: {state['after']}"
            )
            self.record(fault, report, notes, ok)
        finally:
            subprocess.run(["umount", "-l", str(small)], check=False)

    def backup(self, fault: str) -> None:
        env, catalog = self.site()
        dest = self.workdir / "backups"
        outcome = {}

        def during(_server):
            def take():
                made = lb.aura(env, "backup", str(dest), check=False, capture_output=True)
                outcome["backup"] = made.returncode, (made.stdout + made.stderr).strip()

            return at(self.args.seconds * 0.4, take)

        report, _server, _thread = self.load(fault, env, catalog, during)
        notes = [f"backup: {outcome.get('backup')}"]
        made = sorted(p for p in dest.iterdir() if p.is_dir()) if dest.exists() else []
        ok = bool(made) and outcome.get("backup", (1,))[0] == 0
        if made:
            checked = lb.aura(env, "backup", "--verify", str(made[-1]), check=False,
                              capture_output=True)  # fmt: skip
            notes.append(f"verify: exit {checked.returncode}: {checked.stdout.strip()[-160:]}")
            ok = ok and checked.returncode == 0
            restored_env = self.restore_target(env)
            restored = lb.aura(restored_env, "restore", str(made[-1]), "--yes", check=False,
                               capture_output=True)  # fmt: skip
            notes.append(
                f"restore into a fresh site: exit {restored.returncode}: "
                f"{(restored.stdout + restored.stderr).strip()[-200:]}"
            )
            ratings = _count(restored_env, "SELECT count(*) FROM rating")
            notes.append(f"restored site holds {ratings} ratings")
            ok = ok and restored.returncode == 0
        ok = ok and not (report.five_xx or report.lost or report.unhandled)
        self.record(fault, report, "\n   ".join(notes), ok)

    def restore_target(self, env: dict) -> dict:
        instance = str(self.workdir / "instance-restored")
        os.makedirs(instance)
        database_url = None
        if self.args.db == "postgresql":
            database_url = (self.args.database_url or lb.DEFAULT_PG) + "_restore"
            _create_database(database_url)
        return lb.site_env(instance, database_url, None)


def _count(env: dict, sql: str) -> int:
    import sqlalchemy as sa

    from config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(env["AURA_DATABASE_URL"]))
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text(sql))
    finally:
        engine.dispose()


def _column(env: dict, sql: str) -> list:
    import sqlalchemy as sa

    from config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(env["AURA_DATABASE_URL"]))
    try:
        with engine.connect() as connection:
            return list(connection.scalars(sa.text(sql)))
    finally:
        engine.dispose()


def _create_database(url: str) -> None:
    import sqlalchemy as sa

    from config import normalise_database_url

    server, name = url.rsplit("/", 1)
    engine = sa.create_engine(
        normalise_database_url(server + "/postgres"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def _make_supervisor(env: dict) -> None:
    import sqlalchemy as sa

    from config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(env["AURA_DATABASE_URL"]))
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE \"user\" SET role = 'supervisor' WHERE email = :e"), {"e": SUPERVISOR}
        )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--database-url", help=f"with --db postgresql (default {lb.DEFAULT_PG})")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    args.redis_url = None
    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise SystemExit(f"unknown faults: {', '.join(sorted(unknown))}")
    workdir = Path(tempfile.mkdtemp(prefix="aura-fault-bench-"))
    os.chmod(workdir, 0o755)  # the throwaway PostgreSQL (user postgres) lives inside
    bench = Bench(args, workdir)
    print(
        f"Fault benchmark: {args.users} viewers for {args.seconds} s per fault, {args.db}, "
        f"{os.cpu_count()} cores, {date.today()}, load average {lb.load_average()}"
    )
    try:
        for fault in faults:
            handler = {
                "postgres-restart": bench.postgres_restart,
                "redis-restart": bench.redis_restart,
                "drops": bench.drops,
                "disk-full": bench.disk_full,
                "backup": bench.backup,
            }.get(fault, bench.tmdb)
            handler(fault)
    finally:
        for thing in reversed(bench.cleanup):
            try:
                thing.stop()
            except Exception as error:
                print(f"could not stop {thing}: {error}")
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\nfault               requests    5xx   lost   survived")
    for fault, report, _notes, ok in bench.results:
        print(
            f"{fault:18} {report.requests:9} {report.five_xx:6} {len(report.lost):6}   "
            f"{'yes' if ok else 'NO'}"
        )
    if not all(ok for *_rest, ok in bench.results):
        sys.exit(1)


if __name__ == "__main__":
    main()
