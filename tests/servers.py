"""Real Aura processes for tests of what several of them share, and what they do when a
service they need goes away: `aura serve` subprocesses, a throwaway redis-server, nginx.

Each process is configured the way a deployment is, through ``AURA_*`` variables, on the
database the test session migrated (so factories can write what the servers serve).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis
import requests

from tests.conftest import need_service
from tests.factories import BROWSER_UA, PASSWORD, csrf_from

SECRET_KEY = "several-instances-share-this-secret-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} stopped with exit code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{what} did not start listening on {port}")


def stop_process(process: subprocess.Popen | None) -> None:
    """Terminate a server process and wait for it (killing it after 10 s)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_nginx(binary: str, prefix: Path, port: int) -> subprocess.Popen:
    """nginx with ``prefix``/nginx.conf, checked by ``nginx -t`` first, listening on ``port``."""
    command = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
    log = ["-e", str(prefix / "error.log")]
    check = subprocess.run([*command, "-t", *log], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [*command, *log], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for_port(port, process, "nginx", seconds=20)
    except AssertionError as error:
        log_file = prefix / "error.log"
        errors = log_file.read_text(errors="replace") if log_file.exists() else ""
        raise AssertionError(f"{error}:\n{errors}") from None
    return process


def aura_command() -> list[str]:
    script = Path(sys.executable).with_name("aura")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flask", "--app", "aura"]


class AuraProcess:
    """`aura serve` on a free port of its own, its standard error kept in a file."""

    def __init__(self, folder: Path, database_url: str, **env: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "stderr.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AURA_")},
            "AURA_CONFIG": "development",
            "AURA_SECRET_KEY": SECRET_KEY,
            "AURA_DATABASE_URL": database_url,
            "AURA_INSTANCE_PATH": str(folder / "instance"),
            "AURA_MEDIA_DIR": str(folder / "media"),
            "AURA_BACKGROUND_JOBS": "off",
            "AURA_VIEW_FLUSH_SECONDS": "0",
            "AURA_REQUEST_LOG": "0",
            "AURA_THREADS": "4",
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> AuraProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*aura_command(), "serve", "--port", str(self.port)],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        try:
            _wait_for_port(self.port, self.process, "aura serve")
        except AssertionError as error:
            raise AssertionError(f"{error}:\n{self.errors()}") from None
        return self

    def stop(self) -> None:
        stop_process(self.process)

    def errors(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """Start another `aura` command with this process's settings (not waiting for it)."""
        return subprocess.Popen(  # type: ignore[return-value]
            [*aura_command(), *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


class ThrowawayRedis:
    """A redis-server of the test's own on a free port: stopped and started again at will."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(binary):
            need_service("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> ThrowawayRedis:
        self.process = subprocess.Popen(
            [
                self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for_port(self.port, self.process, "redis-server")
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.BusyLoadingError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def nginx_binary() -> str | None:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


class NginxUpstream:
    """nginx with one upstream block holding every given Aura, round robin, over plain HTTP."""

    def __init__(self, prefix: Path, ports: list[int]) -> None:
        binary = nginx_binary()
        if binary is None:
            need_service("nginx is not installed (apt-get install nginx-light)")
        self.prefix = prefix
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        temp = {name: prefix / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(f"        server 127.0.0.1:{port};" for port in ports)
        (prefix / "nginx.conf").write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    access_log off;
    client_max_body_size 64m;
    upstream aura {{
{servers}
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://aura;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
        }}
    }}
}}
""")
        self.process = start_nginx(binary, prefix, self.port)

    def stop(self) -> None:
        stop_process(self.process)


# -- a browser, as requests ---------------------------------------------------------------------


def browser() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = BROWSER_UA
    return session


_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


def csrf(session: requests.Session, url: str) -> str:
    """The CSRF token of the page at ``url`` (every page carries it for htmx)."""
    page = session.get(url, timeout=30)
    assert page.status_code == 200, page.text
    match = _TOKEN.search(page.text)
    return match.group(1) if match else csrf_from(page.text)


def sign_in(
    session: requests.Session, base: str, email: str, password: str = PASSWORD
) -> requests.Response:
    token = csrf(session, f"{base}/auth/login")
    return session.post(
        f"{base}/auth/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )


def post_form(
    session: requests.Session, base: str, page: str, target: str, **data: str
) -> requests.Response:
    """Submit a form of ``page`` to ``target`` the way a browser without JavaScript does."""
    token = csrf(session, f"{base}{page}")
    return session.post(
        f"{base}{target}", data={"csrf_token": token, **data}, allow_redirects=False, timeout=30
    )
