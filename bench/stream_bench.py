"""Streaming benchmarks, measured side by side in one run and printed as ratios.

    python bench/stream_bench.py [--seconds 8] [--size-gib 1] [--clients 100] [--upload-gib 2]

1. Throughput of 64 MiB ranges of a 1 GiB file (wrk): nginx serving the file itself with
   sendfile (the limit), Aura standalone under waitress, and nginx with X-Accel-Redirect in front
   of Aura (docs/deploy/nginx.conf). Each Aura request checks the grant in the database.
2. Fragment latency on Aura standalone (4 waitress threads) with no streams, and with 16 slow
   streams open (more than the threads); then the same with werkzeug's own 206 path, which copies
   the range in a worker thread, to show what handing the file to waitress avoids.
3. Server memory (RSS) while 100 clients stream the 1 GiB file, standalone and behind nginx.
4. Server memory while a 2 GiB file is uploaded through the supervisor's form.

Everything runs in a temporary folder (a sparse file, SQLite, nginx's pid, logs and temp files)
and on 127.0.0.1 only; slow clients are rate-limited, so traffic is bounded. nginx and wrk come
from apt (nginx-light, wrk); the benchmark says so and skips what it cannot run without them.
Aura runs in child processes (``--serve``), so each server's memory is its own.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024
GIB = 1024 * MIB
THREADS = 4
PASSWORD = "bench supervisor password 9"


# -- the Aura side -----------------------------------------------------------------------------


def settings(instance: str, offload: str = "none") -> dict:
    return {
        "CONFIG_NAME": "testing",
        "TESTING": False,
        "INSTANCE_PATH": instance,
        "MEDIA_DIR": os.path.join(instance, "media"),
        "SECRET_KEY": "stream-bench",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.sqlite3",
        "CACHE_TYPE": "SimpleCache",
        "RATELIMIT_STORAGE_URI": "memory://",
        "STREAM_OFFLOAD": offload,
    }


def prepare(instance: str, size: int) -> dict:
    """Schema, a few hundred films, a supervisor, and one video whose file is ``size`` bytes."""
    from flask_migrate import upgrade

    from aura import MIGRATIONS_DIR, create_app
    from aura.extensions import db
    from aura.models import Movie, User, Video
    from aura.services import passwords

    app = create_app(settings(instance))
    media = app.config["MEDIA_DIR"]
    os.makedirs(media, exist_ok=True)
    key = uuid.uuid4().hex
    path = os.path.join(media, key)
    with open(path, "wb") as fh:
        fh.write(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41")
    os.truncate(path, size)  # sparse: reads cost no disk
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        db.session.add_all(
            Movie(
                title=f"Bench film {n}",
                release_date=date(2000, 1, 1),
                source="local",
                popularity=float(n),
                popular_score=float(n),
            )
            for n in range(400)
        )
        db.session.add(
            User(
                email="bench@example.com",
                display_name="Bench",
                password_hash=passwords.hash_password(PASSWORD),
                role="supervisor",
            )
        )
        video = Video(
            id=uuid.uuid4(),
            title="Big bench file",
            storage_key=key,
            content_type="video/mp4",
            size=size,
            sha256="0" * 64,
        )
        db.session.add(video)
        db.session.commit()
        return {"video_id": str(video.id), "path": path, "media": media}


def serve(args: argparse.Namespace) -> None:
    """Child process: Aura under waitress, as `aura serve` runs it."""
    import logging

    from waitress import serve as waitress_serve

    from aura import create_app

    logging.disable(logging.WARNING)
    app = create_app(settings(args.serve, args.offload))
    if args.werkzeug_206:
        from flask import send_file

        from aura.blueprints.streaming import responses

        def werkzeug_file_response(environ, headers, media):
            return send_file(media.path, mimetype=media.content_type, conditional=True)

        responses.file_response = werkzeug_file_response
    waitress_serve(
        app,
        host="127.0.0.1",
        port=args.port,
        threads=THREADS,
        ident="Aura-bench",
        max_request_body_size=app.config["MAX_CONTENT_LENGTH"],
        channel_timeout=120,
        _quiet=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"a server stopped while starting (exit {process.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port}")


class Aura:
    def __init__(self, instance: str, offload: str = "none", werkzeug_206: bool = False) -> None:
        self.port = free_port()
        command = [
            sys.executable,
            __file__,
            "--serve",
            instance,
            "--port",
            str(self.port),
            "--offload",
            offload,
        ]
        if werkzeug_206:
            command.append("--werkzeug-206")
        self.process = subprocess.Popen(command, cwd=ROOT)
        wait_for_port(self.port, self.process)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# -- nginx -------------------------------------------------------------------------------------


def nginx_binary() -> str | None:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def site_config(port: int, aura_port: int, media: str, logs: Path) -> str:
    text = (ROOT / "docs" / "deploy" / "nginx.conf").read_text()
    for pattern, value in (
        (r"listen 80;", f"listen 127.0.0.1:{port};"),
        (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{aura_port};"),
        (r"alias /var/lib/aura/media/;", f"alias {media.rstrip('/')}/;"),
        (r"access_log /var/log/nginx/aura\.access\.log;", "access_log off;"),
    ):
        text, count = re.subn(pattern, value, text)
        if count != 1:
            raise SystemExit(f"docs/deploy/nginx.conf no longer has {pattern!r}")
    return text


class Nginx:
    """One nginx process (no master, one worker): a static file server and the Aura site."""

    def __init__(self, binary: str, prefix: Path, file_path: str, aura_port: int, media: str):
        self.static_port, self.site_port = free_port(), free_port()
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / name).mkdir()
        (prefix / "aura.conf").write_text(site_config(self.site_port, aura_port, media, prefix))
        (prefix / "nginx.conf").write_text(
            f"""
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{self.static_port};
        location = /file {{
            alias {file_path};
            default_type video/mp4;
            sendfile on;
            tcp_nopush on;
            sendfile_max_chunk 2m;
            max_ranges 1;
        }}
    }}
    include {prefix}/aura.conf;
}}
"""
        )
        self.process = subprocess.Popen(
            [
                binary,
                "-p",
                str(prefix),
                "-c",
                str(prefix / "nginx.conf"),
                "-e",
                f"{prefix}/error.log",
            ]
        )
        wait_for_port(self.static_port, self.process)
        wait_for_port(self.site_port, self.process)
        self.static_url = f"http://127.0.0.1:{self.static_port}/file"
        self.site_url = f"http://127.0.0.1:{self.site_port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# -- clients -----------------------------------------------------------------------------------


def grant_cookie(base_url: str, video_id: str) -> str:
    """Open the player page as a browser does; its session cookie carries the grant."""
    import requests

    session = requests.Session()
    response = session.get(f"{base_url}/watch/{video_id}", timeout=30)
    response.raise_for_status()
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


RANGE_BYTES = 64 * MIB


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int = 8) -> float | None:
    """Bytes per second of 64 MiB range responses that wrk measured, or None without wrk.

    From requests/s (every answer is one whole 64 MiB range): wrk's own Transfer/sec is rounded
    to two digits of GB.
    """
    binary = shutil.which("wrk")
    if binary is None:
        return None
    command = [binary, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not match or "Non-2xx" in output or "Socket errors" in output:
        raise SystemExit(f"wrk failed against {url}:\n{output}")
    return float(match.group(1)) * RANGE_BYTES


def latencies(url: str, headers: dict[str, str], seconds: float, timeout: float = 5.0):
    """Sequential keep-alive requests for ``seconds``: (latencies in ms, number timed out)."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    times: list[float] = []
    timed_out = 0
    deadline = time.monotonic() + seconds
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"{url} answered {response.status}")
            times.append((time.perf_counter() - started) * 1000)
        except (TimeoutError, OSError):
            timed_out += 1
            connection.close()
            connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
            if timed_out >= 3:
                break
    connection.close()
    return times, timed_out


class SlowReaders:
    """``count`` streams of ``url`` that each read at most ``rate`` bytes per second."""

    def __init__(self, url: str, cookie: str, count: int, rate: int, range_header: str) -> None:
        host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
        path = "/" + url.split("//", 1)[1].split("/", 1)[1]
        self.selector = selectors.DefaultSelector()
        self.received = 0
        self.rate = rate
        self.stopping = threading.Event()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
            f"Range: {range_header}\r\n\r\n"
        ).encode()
        self.sockets = []
        for _ in range(count):
            sock = socket.create_connection((host, int(port)), timeout=30)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            sock.sendall(request)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ)
            self.sockets.append(sock)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        tick = 0.05
        budget = int(self.rate * tick)
        while not self.stopping.is_set():
            started = time.monotonic()
            for sock in self.sockets:
                try:
                    self.received += len(sock.recv(budget))
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    continue
            time.sleep(max(0.0, tick - (time.monotonic() - started)))

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()
        for sock in self.sockets:
            sock.close()


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    def __init__(self, *pids: int) -> None:
        self.pids = pids
        self.peak = dict.fromkeys(pids, 0.0)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss_mib(pid))
            time.sleep(0.1)

    def stop(self) -> dict[int, float]:
        self.stopping.set()
        self.thread.join()
        return self.peak


def upload(base_url: str, size: int) -> tuple[int, float]:
    """Sign in as the supervisor and upload ``size`` bytes through the form: (status, seconds)."""
    import requests

    session = requests.Session()
    login = session.get(f"{base_url}/auth/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    signed_in = session.post(
        f"{base_url}/auth/login",
        data={"email": "bench@example.com", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    if signed_in.status_code != 303:
        raise SystemExit(f"could not sign in as the bench supervisor ({signed_in.status_code})")
    form = session.get(f"{base_url}/supervisor/videos/new", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    boundary = "aura-bench-" + uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nBig upload\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    # An MP4 head Aura's content check accepts: ftyp, then one "free" box holding the rest.
    ftyp = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    magic = ftyp + (size - len(ftyp)).to_bytes(4, "big") + b"free"
    block = bytes(MIB)
    host, port = base_url.split("//", 1)[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=600)
    started = time.monotonic()
    connection.putrequest("POST", "/supervisor/videos/new")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.putheader("Cookie", cookie)
    connection.endheaders()
    connection.send(head + magic)
    remaining = size - len(magic)
    while remaining > 0:
        piece = block[: min(len(block), remaining)]
        connection.send(piece)
        remaining -= len(piece)
    connection.send(tail)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, time.monotonic() - started


# -- the run -----------------------------------------------------------------------------------


def mb(rate: float | None) -> str:
    return "   (no wrk)" if rate is None else f"{rate / MIB:9.1f} MiB/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="per throughput measurement")
    parser.add_argument("--size-gib", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--slow-streams", type=int, default=16)
    parser.add_argument("--upload-gib", type=float, default=2.0, help="0 skips the upload")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--offload", default="none", help=argparse.SUPPRESS)
    parser.add_argument("--werkzeug-206", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return

    nginx = nginx_binary()
    if nginx is None:
        print("nginx is not installed (apt-get install nginx-light): nginx figures are skipped.")
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): throughput figures are skipped.")
    size = int(args.size_gib * GIB)
    workdir = Path(tempfile.mkdtemp(prefix="aura-stream-bench-"))
    servers: list = []
    try:
        instance = str(workdir / "instance")
        facts = prepare(instance, size)
        video_id = facts["video_id"]
        standalone = Aura(instance)
        offloaded = Aura(instance, offload="x-accel")
        servers += [standalone, offloaded]
        front = None
        if nginx:
            (workdir / "nginx").mkdir()
            front = Nginx(nginx, workdir / "nginx", facts["path"], offloaded.port, facts["media"])
            servers.append(front)
        print(
            f"Streaming benchmark: {size / GIB:.1f} GiB sparse file, waitress {THREADS} threads, "
            f"nginx 1 worker, {os.cpu_count()} cores\n"
        )

        # 1. throughput
        print(f"1. throughput, 64 MiB ranges, wrk -t2 -c8, {args.seconds} s each")
        cookie = grant_cookie(standalone.url, video_id)
        aura_rate = wrk(
            f"{standalone.url}/stream/{video_id}",
            {"Cookie": cookie, "Range": f"bytes=0-{RANGE_BYTES - 1}"},
            args.seconds,
        )
        nginx_rate = accel_rate = None
        if front:
            nginx_rate = wrk(
                front.static_url, {"Range": f"bytes=0-{RANGE_BYTES - 1}"}, args.seconds
            )
            site_cookie = grant_cookie(front.site_url, video_id)
            accel_rate = wrk(
                f"{front.site_url}/stream/{video_id}",
                {"Cookie": site_cookie, "Range": f"bytes=0-{RANGE_BYTES - 1}"},
                args.seconds,
            )
        base = nginx_rate or aura_rate
        for label, rate in (
            ("nginx sendfile, the file itself", nginx_rate),
            ("Aura standalone (waitress)", aura_rate),
            ("nginx + X-Accel-Redirect to Aura", accel_rate),
        ):
            ratio = f"ratio {rate / base:5.2f}" if rate and base else ""
            print(f"   {label:34} {mb(rate)}   {ratio}")

        # 2. fragment latency with slow streams open
        print(
            f"\n2. fragment latency (GET /rows/popular, HX-Request) on Aura standalone, "
            f"{args.slow_streams} streams reading 1 MiB/s each"
        )
        fragment = f"{standalone.url}/rows/popular"
        hx = {"HX-Request": "true"}
        idle, _ = latencies(fragment, hx, 4)
        readers = SlowReaders(
            f"{standalone.url}/stream/{video_id}", cookie, args.slow_streams, MIB, "bytes=0-"
        )
        time.sleep(1)
        busy, busy_timeouts = latencies(fragment, hx, 4)
        readers.stop()
        idle_median = statistics.median(idle)
        print(
            f"   no streams        median {idle_median:7.2f} ms   p95 "
            f"{statistics.quantiles(idle, n=20)[18]:7.2f} ms   ({len(idle)} requests)"
        )
        if busy:
            print(
                f"   streams open      median {statistics.median(busy):7.2f} ms   p95 "
                f"{statistics.quantiles(busy, n=20)[18]:7.2f} ms   ({len(busy)} requests, "
                f"{busy_timeouts} timed out)   ratio {statistics.median(busy) / idle_median:5.2f}"
            )
        werkzeug = Aura(instance, werkzeug_206=True)
        servers.append(werkzeug)
        werkzeug_cookie = grant_cookie(werkzeug.url, video_id)
        readers = SlowReaders(
            f"{werkzeug.url}/stream/{video_id}",
            werkzeug_cookie,
            args.slow_streams,
            MIB,
            "bytes=0-",
        )
        time.sleep(1)
        blocked, blocked_timeouts = latencies(f"{werkzeug.url}/rows/popular", hx, 4, timeout=5)
        readers.stop()
        werkzeug.stop()
        servers.remove(werkzeug)
        answered = f"median {statistics.median(blocked):7.2f} ms, " if blocked else "no answer: "
        print(
            f"   werkzeug's 206    {answered}{len(blocked)} answered, {blocked_timeouts} timed out "
            f"after 5 s (its streams hold all {THREADS} worker threads)"
        )

        # 3. memory while many clients stream
        print(
            f"\n3. server memory while {args.clients} clients stream the whole file "
            f"(each reading 256 KiB/s for 10 s)"
        )
        for label, url, cookie_value, pids in (
            ("Aura standalone", standalone.url, cookie, [standalone.process.pid]),
            (
                "nginx + X-Accel",
                front.site_url if front else None,
                grant_cookie(front.site_url, video_id) if front else None,
                [front.process.pid, offloaded.process.pid] if front else [],
            ),
        ):
            if url is None:
                continue
            before = {pid: rss_mib(pid) for pid in pids}
            sampler = PeakRss(*pids)
            readers = SlowReaders(
                f"{url}/stream/{video_id}", cookie_value, args.clients, 256 * 1024, "bytes=0-"
            )
            time.sleep(10)
            received = readers.received
            readers.stop()
            peak = sampler.stop()
            names = ["Aura"] if len(pids) == 1 else ["nginx", "Aura"]
            parts = "   ".join(
                f"{name} {before[pid]:6.1f} -> {peak[pid]:6.1f} MiB"
                for name, pid in zip(names, pids, strict=True)
            )
            print(f"   {label:16} {parts}   ({received / MIB:.0f} MiB delivered)")

        # 4. memory while a big file is uploaded
        if args.upload_gib > 0:
            upload_size = int(args.upload_gib * GIB)
            print(
                f"\n4. server memory while a {args.upload_gib:.1f} GiB file is uploaded, standalone"
            )
            before = rss_mib(standalone.process.pid)
            sampler = PeakRss(standalone.process.pid)
            status, seconds = upload(standalone.url, upload_size)
            peak = sampler.stop()[standalone.process.pid]
            print(
                f"   Aura {before:6.1f} -> {peak:6.1f} MiB   answer {status}   "
                f"{seconds:5.1f} s ({upload_size / MIB / seconds:.0f} MiB/s end to end)"
            )
    finally:
        for server in reversed(servers):
            try:
                server.stop()
            except Exception as error:  # cleanup goes on
                print(f"could not stop a server: {error}")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
