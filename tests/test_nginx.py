"""docs/deploy/nginx.conf, run by a real nginx in front of a live Aura under waitress.

nginx runs as a child process in the foreground with everything (pid, logs, temp files) in a
temporary folder and the shipped site config changed only where a deployment would change it:
the listen address, the upstream port, the media folder and the log path; for media in a
bucket, its commented-out /_s3_media/ location switched on with the test S3 server's endpoint.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from aura.models import Video
from aura.services import media
from tests.conftest import need_service
from tests.e2e.conftest import LiveServer
from tests.factories import (
    BROWSER_UA,
    PASSWORD,
    csrf_from,
    make_supervisor,
    sample_bytes,
    store_video,
    stretched_sample,
)
from tests.fixtures.s3 import WatchedDoor, store_s3_video
from tests.servers import start_nginx, stop_process

SITE_CONFIG = Path(__file__).resolve().parent.parent / "docs" / "deploy" / "nginx.conf"


def nginx_binary() -> str | None:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed(prefix: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, made for the test (openssl is on every Debian)."""
    cert, key = prefix / "cert.pem", prefix / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


S3_BLOCK = re.compile(r"^    # (location /_s3_media/ \{\n.*?)^    # \}\n", re.MULTILINE | re.DOTALL)


def with_s3_location(text: str, endpoint: str, host: str) -> str:
    """The site config with its commented-out bucket location switched on, as the comment above
    it says: uncommented, and the endpoint put in the lines marked "endpoint". ``endpoint`` is
    where nginx connects, ``host`` the bucket's host that presigned URLs are signed for."""
    block = S3_BLOCK.search(text)
    assert block, "docs/deploy/nginx.conf no longer has the commented-out /_s3_media/ location"
    lines = [re.sub(r"^    # ?", "    ", line) for line in block.group(0).splitlines(True)]
    location = "".join(lines)
    replacements = [
        (r"proxy_pass https://s3\.example\.org/;", f"proxy_pass {endpoint.rstrip('/')}/;"),
        (r"proxy_set_header Host s3\.example\.org;", f"proxy_set_header Host {host};"),
    ]
    for pattern, value in replacements:
        location, count = re.subn(pattern, value, location)
        assert count == 1, f"the /_s3_media/ location no longer has {pattern!r}"
    return text[: block.start()] + location + text[block.end() :]


def site_config(
    ports: tuple[int, int],
    upstream_port: int,
    media_dir: str,
    logs: Path,
    tls: tuple[Path, Path],
    s3: tuple[str, str] | None = None,
) -> str:
    http_port, port = ports
    cert, key = tls
    text = SITE_CONFIG.read_text()
    if s3 is not None:
        text = with_s3_location(text, *s3)
    replacements = [
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;"),
        (
            r"ssl_certificate /etc/letsencrypt/live/aura\.example\.org/fullchain\.pem;",
            f"ssl_certificate {cert};",
        ),
        (
            r"ssl_certificate_key /etc/letsencrypt/live/aura\.example\.org/privkey\.pem;",
            f"ssl_certificate_key {key};",
        ),
        (r"root /var/www/letsencrypt;", f"root {logs};"),
        (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        (r"alias /var/lib/aura/media/;", f"alias {media_dir.rstrip('/')}/;"),
        (r"access_log /var/log/nginx/aura\.access\.log;", f"access_log {logs / 'access.log'};"),
    ]
    for pattern, value in replacements:
        text, count = re.subn(pattern, value, text)
        assert count == 1, f"docs/deploy/nginx.conf no longer has {pattern!r}"
    return text


def main_config(prefix: Path) -> str:
    temp = {name: prefix / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    return f"""
daemon off;
master_process off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    default_type application/octet-stream;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {prefix / "aura.conf"};
}}
"""


class Nginx:
    def __init__(
        self,
        binary: str,
        prefix: Path,
        upstream_port: int,
        media_dir: str,
        s3: tuple[str, str] | None = None,
    ) -> None:
        self.port, self.http_port = free_port(), free_port()
        self.prefix = prefix
        self.cert, key = self_signed(prefix)
        (prefix / "aura.conf").write_text(
            site_config(
                (self.http_port, self.port), upstream_port, media_dir, prefix, (self.cert, key), s3
            )
        )
        (prefix / "nginx.conf").write_text(main_config(prefix))
        self.url = f"https://127.0.0.1:{self.port}"
        self.http_url = f"http://127.0.0.1:{self.http_port}"
        self.process = start_nginx(binary, prefix, self.port)

    def stop(self) -> None:
        stop_process(self.process)

    def errors(self) -> str:
        log = self.prefix / "error.log"
        return log.read_text() if log.exists() else ""


@pytest.fixture(scope="module")
def aura_server(app) -> Iterator[LiveServer]:
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nginx(app, aura_server, tmp_path_factory) -> Iterator[Nginx]:
    binary = nginx_binary()
    if binary is None:
        need_service("nginx is not installed (apt-get install nginx-light)")
    os.makedirs(app.config["MEDIA_DIR"], exist_ok=True)
    upstream_port = int(aura_server.url.rsplit(":", 1)[1])
    server = Nginx(binary, tmp_path_factory.mktemp("nginx"), upstream_port, app.config["MEDIA_DIR"])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3_nginx(app, aura_server, s3_server, s3_door, tmp_path_factory) -> Iterator[Nginx]:
    """The same site with its bucket location switched on: nginx reaches the S3 server through
    a door that records what it is asked and checks signatures the way S3 does."""
    binary = nginx_binary()
    if binary is None:
        need_service("nginx is not installed (apt-get install nginx-light)")
    os.makedirs(app.config["MEDIA_DIR"], exist_ok=True)
    upstream_port = int(aura_server.url.rsplit(":", 1)[1])
    signed_host = urlsplit(s3_server).netloc  # what Aura's presigned URLs are signed for
    server = Nginx(
        binary,
        tmp_path_factory.mktemp("nginx-s3"),
        upstream_port,
        app.config["MEDIA_DIR"],
        s3=(s3_door.url, signed_host),
    )
    yield server
    server.stop()


@pytest.fixture
def offload(app, monkeypatch):
    monkeypatch.setitem(app.config, "STREAM_OFFLOAD", "x-accel")


def viewer(nginx: Nginx, video) -> requests.Session:
    session = requests.Session()
    session.verify = str(nginx.cert)
    session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the test certificate
    session.headers["User-Agent"] = BROWSER_UA
    page = session.get(f"{nginx.url}/watch/{video.id}", timeout=30)
    assert page.status_code == 200, page.text
    return session


def test_seeking_through_nginx_with_x_accel(nginx, offload, db, media_dir):
    data = sample_bytes()
    video = store_video(title="Through nginx")
    session = viewer(nginx, video)
    url = f"{nginx.url}/stream/{video.id}"

    probe = session.get(url, headers={"Range": "bytes=0-1"}, timeout=30)
    assert probe.status_code == 206, nginx.errors()
    assert probe.headers["Content-Range"] == f"bytes 0-1/{len(data)}"
    assert probe.content == data[:2]
    assert probe.headers["Content-Type"] == "video/mp4"
    assert probe.headers["X-Content-Type-Options"] == "nosniff"
    assert probe.headers["Cache-Control"] == "private, no-cache"  # Aura's, once
    assert "X-Accel-Redirect" not in probe.headers

    # A player seeking: the middle, then the end, then back to the start.
    middle = len(data) // 2
    pieces = {}
    for start in (middle, len(data) - 1000, 0):
        response = session.get(url, headers={"Range": f"bytes={start}-"}, timeout=30)
        assert response.status_code == 206
        assert response.headers["Content-Range"] == f"bytes {start}-{len(data) - 1}/{len(data)}"
        pieces[start] = response.content
    assert pieces[middle] == data[middle:]
    assert hashlib.sha256(pieces[0]).hexdigest() == video.sha256

    whole = session.get(url, timeout=30)
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    assert whole.content == data
    suffix = session.get(url, headers={"Range": "bytes=-100"}, timeout=30)
    assert suffix.content == data[-100:]
    beyond = session.get(url, headers={"Range": f"bytes={len(data)}-"}, timeout=30)
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    several = session.get(url, headers={"Range": "bytes=0-0,5-9,0-"}, timeout=30)
    assert several.status_code == 200 and len(several.content) == len(data)
    etag = whole.headers["ETag"]
    assert session.get(url, headers={"If-None-Match": etag}, timeout=30).status_code == 304
    stale = session.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'}, timeout=30)
    assert stale.status_code == 200 and len(stale.content) == len(data)

    db.session.expire_all()
    assert db.session.scalar(sa.select(Video.view_count).where(Video.id == video.id)) == 1


def test_nginx_streams_nothing_without_a_grant(nginx, offload, db, media_dir):
    video = store_video(title="Guarded")
    refused = requests.get(f"{nginx.url}/stream/{video.id}", timeout=30, verify=str(nginx.cert))
    assert refused.status_code == 403
    assert b"ftyp" not in refused.content
    direct = requests.get(
        f"{nginx.url}/_protected_media/{video.storage_key}", timeout=30, verify=str(nginx.cert)
    )
    assert direct.status_code == 404
    assert b"ftyp" not in direct.content


def test_aura_streams_through_nginx_without_offload(nginx, db, media_dir):
    data = sample_bytes()
    video = store_video(title="Proxied")
    session = viewer(nginx, video)
    response = session.get(
        f"{nginx.url}/stream/{video.id}", headers={"Range": "bytes=1000-1999"}, timeout=30
    )
    assert response.status_code == 206
    assert response.content == data[1000:2000]
    assert "X-Accel-Redirect" not in response.headers


def test_a_supervisor_uploads_through_nginx(nginx, db, media_dir):
    boss = make_supervisor()
    session = requests.Session()
    session.verify = str(nginx.cert)
    session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the test certificate
    session.headers["User-Agent"] = BROWSER_UA
    login = session.get(f"{nginx.url}/auth/login", timeout=30)
    signed_in = session.post(
        f"{nginx.url}/auth/login",
        data={"email": boss.email, "password": PASSWORD, "csrf_token": csrf_from(login.text)},
        allow_redirects=False,
        timeout=30,
    )
    assert signed_in.status_code == 303, signed_in.text
    form = session.get(f"{nginx.url}/supervisor/videos/new", timeout=30)
    assert form.status_code == 200
    uploaded = session.post(
        f"{nginx.url}/supervisor/videos/new",
        data={"title": "Via nginx", "csrf_token": csrf_from(form.text)},
        files={"file": ("via-nginx.mp4", sample_bytes(), "video/mp4")},
        allow_redirects=False,
        timeout=60,
    )
    assert uploaded.status_code == 303, uploaded.text
    db.session.expire_all()
    video = db.session.scalar(sa.select(Video).where(Video.title == "Via nginx"))
    assert video is not None and video.size == len(sample_bytes())
    assert os.listdir(media_dir) == [video.storage_key]


def test_plain_http_is_sent_to_https(nginx):
    response = requests.get(f"{nginx.http_url}/movies/1?x=1", allow_redirects=False, timeout=30)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://127.0.0.1/movies/1?x=1"


def test_https_serves_aura_with_its_headers(nginx, db):
    response = requests.get(f"{nginx.url}/healthz", timeout=30, verify=str(nginx.cert))
    assert response.status_code == 200 and response.json()["database"] == "ok"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-Id"]


# -- media in a bucket, offloaded to nginx --------------------------------------------------------


def test_seeking_a_bucket_video_through_nginx_with_x_accel(
    s3_nginx, s3_door: WatchedDoor, s3_server, offload, db, s3_media
):
    data = stretched_sample(300 * 1024)  # several of the test server's 64 KiB parts
    video = store_s3_video(data, title="From the bucket")
    session = viewer(s3_nginx, video)
    assert session.cookies, "the player page gave the viewer no session cookie"
    session.headers["Authorization"] = "Basic dmlld2VyOnNlY3JldA=="
    session.headers["Referer"] = f"{s3_nginx.url}/watch/{video.id}"
    url = f"{s3_nginx.url}/stream/{video.id}"
    s3_door.requests.clear()
    size, middle = len(data), len(data) // 2

    probe = session.get(url, headers={"Range": "bytes=0-1"}, timeout=30)
    assert probe.status_code == 206, s3_nginx.errors()
    assert probe.content == data[:2]
    assert probe.headers["Content-Range"] == f"bytes 0-1/{size}"
    assert probe.headers["Content-Type"] == "video/mp4"
    assert probe.headers["X-Content-Type-Options"] == "nosniff"
    assert probe.headers["Content-Security-Policy"] == "default-src 'none'"
    assert probe.headers["Referrer-Policy"] == "same-origin"
    assert probe.headers["Cache-Control"] == "private, no-cache"  # Aura's, once
    # What the bucket says about itself (the test server's names and S3's) stays in nginx.
    for leak in ("X-Accel-Redirect", "Access-Control-Allow-Origin", "x-amzn-requestid"):
        assert leak not in probe.headers, leak
    assert not [name for name in probe.headers if name.lower().startswith("x-amz")]
    # nginx keeps Aura's own cookie across the redirect; nothing the bucket would set.
    assert probe.headers.get("Set-Cookie", "aura_session=").startswith("aura_session=")

    seek = session.get(url, headers={"Range": f"bytes={middle}-{middle + 9999}"}, timeout=30)
    assert seek.status_code == 206
    assert seek.headers["Content-Range"] == f"bytes {middle}-{middle + 9999}/{size}"
    assert seek.content == data[middle : middle + 10_000]
    end = session.get(url, headers={"Range": f"bytes={size - 1000}-"}, timeout=30)
    assert end.status_code == 206
    assert end.headers["Content-Range"] == f"bytes {size - 1000}-{size - 1}/{size}"
    assert end.content == data[-1000:]
    suffix = session.get(url, headers={"Range": "bytes=-100"}, timeout=30)
    assert suffix.status_code == 206
    assert suffix.headers["Content-Range"] == f"bytes {size - 100}-{size - 1}/{size}"
    assert suffix.content == data[-100:]
    whole = session.get(url, timeout=30)
    assert whole.status_code == 200 and whole.content == data
    head = session.head(url, timeout=30)
    assert head.status_code == 200, s3_nginx.errors()
    assert head.headers["Content-Length"] == str(size) and not head.content
    beyond = session.get(url, headers={"Range": f"bytes={size}-"}, timeout=30)
    assert beyond.status_code == 416 and data[:8] not in beyond.content
    etag = whole.headers["ETag"]
    assert session.get(url, headers={"If-None-Match": etag}, timeout=30).status_code == 304

    # What reached the bucket: signed requests S3 accepts, the viewer's ranges, and nothing of
    # the viewer's identity (cookies, credentials, address, the page they came from).
    asked = s3_door.requests
    assert len(asked) == 8
    assert all(request.signed for request in asked), [r.target for r in asked if not r.signed]
    assert all(r.target.startswith(f"/{s3_media.name}/{video.storage_key}?") for r in asked)
    assert [r.headers.get("range") for r in asked[:4]] == [
        "bytes=0-1",
        f"bytes={middle}-{middle + 9999}",
        f"bytes={size - 1000}-",
        "bytes=-100",
    ]
    for request in asked:
        assert request.headers["host"] == urlsplit(s3_server).netloc
        for private in ("cookie", "authorization", "x-forwarded-for", "referer"):
            assert private not in request.headers, (private, request.headers)

    db.session.expire_all()
    assert db.session.scalar(sa.select(Video.view_count).where(Video.id == video.id)) == 1


def test_nginx_asks_the_bucket_nothing_without_a_grant(
    s3_nginx, s3_door: WatchedDoor, offload, db, s3_media
):
    video = store_s3_video(title="Guarded in the bucket")
    s3_door.requests.clear()
    refused = requests.get(
        f"{s3_nginx.url}/stream/{video.id}", timeout=30, verify=str(s3_nginx.cert)
    )
    assert refused.status_code == 403
    assert b"ftyp" not in refused.content
    # Even with a valid presigned query, the bucket location answers only X-Accel-Redirect.
    signed = urlsplit(media.media_file(video).redirect_url)
    direct = requests.get(
        f"{s3_nginx.url}/_s3_media{signed.path}?{signed.query}",
        timeout=30,
        verify=str(s3_nginx.cert),
    )
    assert direct.status_code == 404
    assert b"ftyp" not in direct.content
    assert s3_door.requests == []
