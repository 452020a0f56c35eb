"""Capacity: how many viewers at 8 Mbit/s one Aura process holds while the catalog stays quick.

    python bench/capacity_bench.py [--step-seconds 8] [--max-viewers 640]
                                   [--setups standalone,nginx,lifted] [--connection-limit 1000]

Paced viewers each read one video at 1 MB/s (8 Mbit/s) as a player does: range requests of
2 MiB one after another on a keep-alive connection, each viewer under its own access grant, all
of them driven by one process of selectors. Their first ranges differ in length, so their
requests are spread over time as real viewers' are, not sent in bursts. A step ramp (10, 20,
40, ...) holds each step for --step-seconds while catalog fragments (GET /rows/popular,
HX-Request) are timed one after another, just before with no viewers and then with them (side
by side); the ramp stops at the first step where the fragments' p95 exceeds 1.5 times their
p95 with no viewers, or where a viewer falls behind its pace (received less than 90% of what
it should have). A step that fails is measured again, and fails if both do. The figure is the
last step that passed, refined by halving the gap once. CPU is given for each server and for
the viewers' own process.

Setups, one after another in one run: `aura serve` alone (waitress, its default 8 threads,
Aura handing waitress the file window), and `aura serve` with AURA_STREAM_OFFLOAD=x-accel
behind nginx (docs/deploy/nginx.conf without its TLS lines, one worker), where nginx sends the
bytes with sendfile; and with --setups lifted, `aura serve` alone with AURA_CONNECTION_LIMIT
raised (--connection-limit), to find what limits it past waitress's default 100 connections.
SQLite, the demo catalog, a 64 MiB sparse video; everything on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import load_bench as lb  # noqa: E402
from load_client import BROWSER_UA  # noqa: E402

RATE = 1_000_000  # bytes a second: 8 Mbit/s
CHUNK = 2 * 1024 * 1024  # one range request
TICK = 0.05
LIMIT = 1.5  # fragment p95 against idle p95
PACE = 0.9  # a viewer below 90% of its pace has fallen behind


# -- paced viewers (in a process of their own) -------------------------------------------------


class Paced:
    """One viewer's connection: range requests one after another, read no faster than RATE."""

    def __init__(
        self, port: int, path: str, cookie: str, size: int, start: int, phase: float
    ) -> None:
        self.port, self.path, self.cookie, self.size = port, path, cookie, size
        self.offset = start
        # The first range is shorter by a share of its own, so that viewers who start together
        # do not ask for their next ranges all at once ever after (real viewers are spread).
        self.next_length = max(64 * 1024, int(CHUNK * phase))
        self.received = 0
        self.errors = 0
        self.sock: socket.socket | None = None
        self.head = b""
        self.remaining = 0

    def connect(self, selector: selectors.BaseSelector) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        except OSError:
            self.errors += 1
            self.sock = None
            return
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
        sock.setblocking(False)
        self.sock = sock
        selector.register(sock, selectors.EVENT_READ, self)
        self.request()

    def request(self) -> None:
        end = min(self.size, self.offset + self.next_length) - 1
        self.next_length = CHUNK
        self.sock.sendall(
            f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {self.cookie}\r\n"
            f"User-Agent: {BROWSER_UA}\r\nRange: bytes={self.offset}-{end}\r\n\r\n".encode()
        )
        self.head, self.remaining = b"", -1
        self.offset = end + 1 if end + 1 < self.size else 0

    def read(self, allowance: int, buffer: memoryview, selector) -> int:
        """Read up to ``allowance`` bytes of body; returns the bytes read."""
        got = 0
        while allowance > 0 and self.sock is not None:
            try:
                if self.remaining < 0:  # still in the response head
                    data = self.sock.recv(4096, socket.MSG_PEEK)
                    if not data:
                        raise ConnectionError
                    end = (self.head + data).find(b"\r\n\r\n")
                    if end < 0:
                        self.head += self.sock.recv(len(data))
                        continue
                    take = end + 4 - len(self.head)
                    self.head += self.sock.recv(take)
                    status = self.head.split(b" ", 2)[1]
                    length = re.search(rb"(?i)content-length: *([0-9]+)", self.head)
                    if status != b"206" or not length:
                        raise ConnectionError
                    self.remaining = int(length.group(1))
                    continue
                n = self.sock.recv_into(buffer, min(allowance, self.remaining, len(buffer)))
                if n == 0:
                    raise ConnectionError
                got += n
                allowance -= n
                self.remaining -= n
                if self.remaining == 0:
                    self.request()
            except (BlockingIOError, InterruptedError):
                break
            except (ConnectionError, OSError):
                self.errors += 1
                selector.unregister(self.sock)
                self.sock.close()
                self.sock = None
                self.connect(selector)
                break
        self.received += got
        return got


def paced_viewers(port, path, cookies, size, seconds, warmup, results) -> None:
    """Child process: every viewer reads at RATE for ``warmup + seconds``; sends per-viewer
    bytes received during the measured ``seconds`` and their errors."""
    selector = selectors.DefaultSelector()
    viewers = [
        Paced(port, path, c, size, (n * 7919 * 4096) % size, (n * 0.6180339887) % 1)
        for n, c in enumerate(cookies)
    ]
    for viewer in viewers:
        viewer.connect(selector)
    buffer = memoryview(bytearray(256 * 1024))
    started = time.monotonic()
    measured_from = started + warmup
    at_mark = None
    stop = measured_from + seconds
    while True:
        now = time.monotonic()
        if at_mark is None and now >= measured_from:
            at_mark = [v.received for v in viewers]
        if now >= stop:
            break
        for viewer in viewers:
            allowance = int(RATE * (now - started)) - viewer.received
            if allowance > 0 and viewer.sock is not None:
                viewer.read(min(allowance, 2 * RATE), buffer, selector)
            elif viewer.sock is None:
                viewer.connect(selector)
        time.sleep(max(0.0, TICK - (time.monotonic() - now)))
    got = [v.received - m for v, m in zip(viewers, at_mark or [0] * len(viewers), strict=True)]
    results.send((got, sum(v.errors for v in viewers)))
    for viewer in viewers:
        if viewer.sock:
            viewer.sock.close()


# -- measuring -----------------------------------------------------------------------------------


def fragment_times(port: int, seconds: float) -> list[float]:
    """Sequential keep-alive GETs of a catalog fragment for ``seconds``: milliseconds each."""
    times = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            connection.request(
                "GET", "/rows/popular", headers={"HX-Request": "true", "User-Agent": BROWSER_UA}
            )
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"the fragment answered {response.status}")
        except (OSError, http.client.HTTPException):
            times.append(30_000.0)
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.02)  # a person clicking, not a benchmark of the fragment itself
    connection.close()
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def grant_cookies(url: str, video_id: str, count: int) -> list[str]:
    """``count`` browsers, each with the grant its player page gave it."""
    import requests

    cookies = []
    for _ in range(count):
        session = requests.Session()
        page = session.get(f"{url}/watch/{video_id}", headers={"User-Agent": BROWSER_UA})
        page.raise_for_status()
        cookies.append("; ".join(f"{k}={v}" for k, v in session.cookies.items()))
    return cookies


@dataclass
class Step:
    viewers: int
    idle_p95_ms: float  # measured just before, with no viewers
    p95_ms: float
    median_ms: float
    behind: int
    errors: int
    mib_s: float
    cpu: dict[str, float]

    @property
    def ratio(self) -> float:
        return self.p95_ms / self.idle_p95_ms

    @property
    def passed(self) -> bool:
        return self.behind == 0 and self.ratio <= LIMIT

    def line(self) -> str:
        cpu = "  ".join(f"{name} {value:4.0%}" for name, value in self.cpu.items())
        return (
            f"   {self.viewers:4} viewers  fragment p95 {self.p95_ms:6.1f} ms against "
            f"{self.idle_p95_ms:6.1f} idle ({self.ratio:4.2f}x), median {self.median_ms:5.1f}  "
            f"behind {self.behind:3}  reconnects {self.errors:3}  {self.mib_s:6.1f} MiB/s  "
            f"CPU {cpu}  {'ok' if self.passed else 'LIMIT'}"
        )


def run_step(setup, count: int, seconds: float, cookies: list[str]) -> Step:
    """Fragments timed with no viewers, then with ``count`` viewers: one step, side by side."""
    idle = fragment_times(setup.port, seconds / 2)
    parent, child = multiprocessing.Pipe(duplex=False)
    warmup = 2.0
    process = multiprocessing.Process(
        target=paced_viewers,
        args=(setup.port, setup.path, cookies[:count], setup.size, seconds, warmup, child),
    )
    process.start()
    time.sleep(warmup)
    pids = {**setup.pids, "viewers": process.pid}
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    wall = time.monotonic()
    times = fragment_times(setup.port, seconds)
    wall = time.monotonic() - wall
    cpu = {name: (cpu_seconds(pid) - cpu_before[name]) / wall for name, pid in pids.items()}
    got, errors = parent.recv()
    process.join()
    behind = sum(1 for n in got if n < PACE * RATE * seconds)
    return Step(
        count,
        p95(idle),
        p95(times),
        statistics.median(times),
        behind,
        errors,
        sum(got) / seconds / (1024 * 1024),
        cpu,
    )


def checked_step(setup, count: int, seconds: float, cookies: list[str]) -> Step:
    """A step that fails is measured once more (the machine is shared): it fails if both do."""
    step = run_step(setup, count, seconds, cookies)
    print(step.line())
    if not step.passed:
        step = run_step(setup, count, seconds, cookies)
        print(step.line() + "   (again)")
    return step


# -- the setups ------------------------------------------------------------------------------------


def plain_http_site(port: int, redirect_port: int, aura_port: int, media: str) -> str:
    """docs/deploy/nginx.conf on loopback ports, without TLS (the bench's clients speak HTTP)."""
    text = (ROOT / "docs" / "deploy" / "nginx.conf").read_text()
    for pattern, value in (
        (r"listen 80;", f"listen 127.0.0.1:{redirect_port};"),
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{port};"),
        (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{aura_port};"),
        (r"alias /var/lib/aura/media/;", f"alias {media.rstrip('/')}/;"),
        (r"access_log /var/log/nginx/aura\.access\.log;", "access_log off;"),
        (r"root /var/www/letsencrypt;", "root /nonexistent;"),
    ):
        text, count = re.subn(pattern, value, text)
        if count != 1:
            raise SystemExit(f"docs/deploy/nginx.conf no longer has {pattern!r}")
    return re.sub(r"(?m)^\s*ssl_[a-z_]+ [^;]*;\n", "", text)


class NginxFront:
    def __init__(self, prefix: Path, aura_port: int, media: str) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(binary):
            raise SystemExit("nginx is not installed (apt-get install nginx-light)")
        self.port = lb.free_port()
        prefix.mkdir()
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / name).mkdir()
        (prefix / "aura.conf").write_text(
            plain_http_site(self.port, lb.free_port(), aura_port, media)
        )
        (prefix / "nginx.conf").write_text(
            f"""
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 8192;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    default_type application/octet-stream;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/aura.conf;
}}
"""
        )
        command = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        subprocess.run([*command, "-t", "-e", f"{prefix}/error.log"], check=True,
                       capture_output=True)  # fmt: skip
        self.process = subprocess.Popen([*command, "-e", f"{prefix}/error.log"])
        lb.wait_for_port(self.port, self.process, "nginx", seconds=20)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass
class Setup:
    name: str
    port: int
    path: str
    size: int
    pids: dict[str, int]


def ramp(setup: Setup, args, cookies: list[str]) -> int:
    print(f"\n{setup.name}   (load average {lb.load_average()})")
    good, bad = 0, None
    count = 10
    while count <= args.max_viewers:
        if not checked_step(setup, count, args.step_seconds, cookies).passed:
            bad = count
            break
        good = count
        count *= 2
    if bad and bad - good > 10:
        middle = (good + bad) // 2
        if checked_step(setup, middle, args.step_seconds, cookies).passed:
            good = middle
    print(f"   holds {good} viewers at 8 Mbit/s" + ("" if bad else " (the ramp's top)"))
    return good


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--step-seconds", type=float, default=8.0)
    parser.add_argument("--max-viewers", type=int, default=640)
    parser.add_argument(
        "--setups",
        default="standalone,nginx",
        help="standalone, nginx, and lifted (standalone with --connection-limit)",
    )
    parser.add_argument("--connection-limit", type=int, default=1000, help="for lifted")
    args = parser.parse_args()
    setups = args.setups.split(",")

    workdir = Path(tempfile.mkdtemp(prefix="aura-capacity-bench-"))
    instance = str(workdir / "instance")
    os.makedirs(instance)
    running = []
    try:
        env = lb.site_env(instance, None, None)
        catalog = lb.build_site(env, [])
        video_id, size, _duration = catalog.videos[0]
        media = os.path.join(instance, "media")
        print(
            f"Capacity benchmark: viewers at 1 MB/s (8 Mbit/s) in 2 MiB ranges, {os.cpu_count()} "
            f"cores, {date.today()}, step {args.step_seconds:.0f} s, limit fragment p95 > "
            f"{LIMIT}x idle or a viewer below {PACE:.0%} of its pace"
        )
        results = {}
        for name, limit in (("standalone", None), ("lifted", args.connection_limit)):
            if name not in setups:
                continue
            extra = {"AURA_CONNECTION_LIMIT": str(limit)} if limit else {}
            alone = lb.Server(dict(env, **extra), workdir / f"{name}.log")
            running.append(alone)
            cookies = grant_cookies(alone.url, video_id, args.max_viewers)
            label = f"AURA_CONNECTION_LIMIT={limit}" if limit else "its 100 connections"
            setup = Setup(
                f"aura serve alone (waitress, 8 threads, {label})",
                alone.port,
                f"/stream/{video_id}",
                size,
                {"aura": alone.process.pid},
            )
            results[name] = ramp(setup, args, cookies)
            said = alone.log.read_text(errors="replace").count("reached the connection limit")
            if said:
                print(f"   waitress said {said} times that it reached its connection limit")
            alone.stop()
            running.remove(alone)
        if "nginx" in setups:
            offloaded = lb.Server(
                dict(env, AURA_STREAM_OFFLOAD="x-accel", AURA_TRUSTED_PROXY_HOPS="1"),
                workdir / "offloaded.log",
            )
            running.append(offloaded)
            front = NginxFront(workdir / "nginx", offloaded.port, media)
            running.append(front)
            cookies = grant_cookies(f"http://127.0.0.1:{front.port}", video_id, args.max_viewers)
            setup = Setup(
                "nginx (1 worker, sendfile) + aura serve with X-Accel",
                front.port,
                f"/stream/{video_id}",
                size,
                {"aura": offloaded.process.pid, "nginx": front.process.pid},
            )
            results["nginx"] = ramp(setup, args, cookies)
            said = offloaded.log.read_text(errors="replace").count("reached the connection limit")
            if said:
                print(f"   waitress said {said} times that it reached its connection limit")
        print("\nsummary")
        for name, good in results.items():
            print(f"   {name:10} holds {good:4} viewers at 8 Mbit/s")
        for name in ("nginx", "lifted"):
            if name in results and results.get("standalone"):
                ratio = results[name] / results["standalone"]
                print(f"   {name} against standalone: ratio {ratio:.1f}")
    finally:
        for thing in reversed(running):
            thing.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
