"""A hostile probe: about 500 requests an attacker or a careless client would send, against a
real waitress server, counting answers by status and the unhandled exceptions Aura logged.

    python bench/hostile_probe.py [--requests-per-class 20]

It builds a demo site in a temporary instance folder (SQLite), signs a viewer in, and sends
each class of bad input from tests/test_hostile_input.py and friends at every route it
applies to: ids past 64 bits and Unicode digits, cursors Aura did not make, bad numbers in
forms, ranges, forged tokens and grants, oversized and hostile text, forged proxy headers,
wrong methods. It prints one line per class and a total; any 5xx or logged exception is a
finding (exit status 1).
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import re
import sys
import tempfile
import uuid
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import requests

from aura import MIGRATIONS_DIR, create_app
from aura.extensions import db
from aura.services import accounts, demo, samples
from tests.e2e.conftest import LiveServer

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


class Exceptions(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.count += 1


def cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


HOSTILE_QUERY = ["\x00", "%", "١٢", "9" * 40, "<script>alert(1)</script>", "x" * 4000, "-1", "🎬"]
QUERY_NAMES = ("q", "after", "sort", "show", "status", "role", "format", "since", "until", "movie")


def sweep(app):
    """Every GET route without path arguments, with every query parameter Aura reads set to
    each hostile value; and every state-changing route without its CSRF token."""
    gets, posts = [], []
    for rule in app.url_map.iter_rules():
        if rule.arguments or rule.endpoint == "static":
            continue
        if "GET" in (rule.methods or ()):
            gets += [
                ("GET", rule.rule, {"params": dict.fromkeys(QUERY_NAMES, value)})
                for value in HOSTILE_QUERY
            ]
        if "POST" in (rule.methods or ()):
            posts.append(("POST", rule.rule, {"headers": {"X-CSRFToken": "forged"}}))
    return gets, posts


def classes(video_id: str, film_id: int):
    ids = ["9223372036854775808", "18446744073709551617", "١٢", "１２", "0", "-1", "9" * 40]
    bad_cursors = [
        cursor(["datetime", "0001-01-01T00:00:00+14:00", 1]),
        cursor(["datetime", "9999-12-31T23:59:59-12:00", 1]),
        cursor(["number", 1e308, 2**70]),
        cursor(["date", "0001-01-01", 1]),
        "!!!",
        "A" * 3000,
        base64.urlsafe_b64encode(b"[" * 3000).decode(),
    ]
    yield (
        "ids past 64 bits and other digits",
        [("GET", f"/movies/{value}", {}) for value in ids]
        + [("GET", f"/posters/{value}.svg", {}) for value in ids]
        + [("POST", f"/library/watchlist/{value}", {"data": {"on": "1"}}) for value in ids]
        + [("POST", f"/library/ratings/{value}", {"data": {"score": "5"}}) for value in ids]
        + [("GET", f"/library/reviews/{value}", {}) for value in ids],
    )
    yield (
        "cursors Aura did not make",
        [
            ("GET", f"{path}?after={value}", {})
            for path in (
                "/rows/popular",
                "/rows/trending",
                "/genres/drama",
                "/library",
                "/library?show=ratings",
                f"/library/reviews/{film_id}",
            )
            for value in bad_cursors
        ],
    )
    yield (
        "numbers in forms",
        [
            ("POST", f"/library/ratings/{film_id}", {"data": {"score": value}})
            for value in ("١٠", "10.5", "1e9", "", "11", "0", "x" * 5000)
        ]
        + [
            ("POST", f"/watch/{video_id}/progress", {"data": {"position": value, "duration": "30"}})
            for value in ("١٢", "nan", "inf", "-1", "1e999", "9" * 50)
        ]
        + [("POST", "/auth/mfa", {"data": {"code": value}}) for value in ("١٢٣٤٥٦", "x" * 100)],
    )
    yield (
        "ranges",
        [
            ("GET", f"/stream/{video_id}", {"headers": {"Range": value}})
            for value in (
                "bytes=5-1",
                "bytes=99999999999-",
                "bytes=-0",
                "bytes=0-1,2-3,4-5",
                "bytes=١-٢".encode(),  # UTF-8 on the wire, as a careless client sends it
                "bytes=" + "9" * 60 + "-",
                "items=0-1",
                "bytes=",
                "bytes=abc",
            )
        ],
    )
    yield (
        "tokens and grants",
        [("GET", f"/auth/reset/{value}", {}) for value in ("x", "é" * 40, "A" * 90, "%00")]
        + [
            ("GET", f"/stream/{uuid.uuid4()}", {}),
            ("GET", f"/watch/{uuid.uuid4()}", {}),
            ("POST", f"/watch/{video_id}/unlock", {"data": {"password": "x" * 5000}}),
        ],
    )
    yield (
        "text",
        [
            ("GET", "/search", {"params": {"q": value}})
            for value in (
                "%",
                "_",
                "\x00",
                "x" * 20000,
                "🎬" * 500,
                "\u202e",
                "<script>",
                "' OR 1=1",
            )
        ]
        + [
            (
                "POST",
                "/auth/register",
                {"data": {"email": value, "display_name": value, "password": value}},
            )
            for value in ("<svg onload=1>@x.y", "a\x00b@x.y", "ｖiewer@aura.local")
        ],
    )
    yield (
        "proxies and hosts",
        [
            ("GET", "/", {"headers": {"X-Forwarded-For": value}})
            for value in ("6.6.6.6", "garbage", "1.2.3.4, 5.6.7.8", "::gg")
        ]
        + [("GET", "/", {"headers": {"Host": "evil.example"}})],
    )
    yield (
        "wrong methods and paths",
        [
            ("DELETE", "/", {}),
            ("PUT", "/movies/1", {}),
            ("GET", "/auth/logout", {}),
            ("POST", "/healthz", {}),
            ("GET", "/%2e%2e/etc/passwd", {}),
            ("GET", "/static/../x", {}),
        ],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    instance = tempfile.mkdtemp(prefix="aura-probe-")
    app = create_app(
        {
            "CONFIG_NAME": "testing",
            "TESTING": False,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "probe",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/probe.sqlite3",
            "MEDIA_DIR": os.path.join(instance, "media"),
            "REQUEST_LOG": False,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade(directory=MIGRATIONS_DIR)
        demo.load_demo()
        installed = samples.install_samples(lambda _line: None)
        accounts.create_user("probe@example.com", "granite window harbour 4")
        video_id, film_id = str(installed[0].id), installed[0].movie_id or 1
        db.session.remove()
    exceptions = Exceptions()
    logging.getLogger("aura").addHandler(exceptions)
    server = LiveServer(app).start()
    session = requests.Session()
    session.headers["User-Agent"] = BROWSER
    login = session.get(f"{server.url}/auth/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    session.post(
        f"{server.url}/auth/login",
        data={
            "email": "probe@example.com",
            "password": "granite window harbour 4",
            "csrf_token": token,
        },
        timeout=30,
    )
    session.get(f"{server.url}/watch/{video_id}", timeout=30)
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', session.get(server.url, timeout=30).text)
    session.headers["X-CSRFToken"] = csrf.group(1) if csrf else ""
    total, failures = Counter(), 0
    gets, posts = sweep(app)
    every = [
        *classes(video_id, film_id),
        ("every page with hostile query values", gets),
        ("every form without its token", posts),
    ]
    for name, probes in every:
        statuses = Counter()
        for method, path, options in probes:
            response = session.request(method, f"{server.url}{path}", timeout=30, **options)
            statuses[response.status_code] += 1
        total.update(statuses)
        bad = sum(count for status, count in statuses.items() if status >= 500)
        failures += bad
        print(
            f"{name:<36} {sum(statuses.values()):>4} requests  "
            + ", ".join(f"{status}×{count}" for status, count in sorted(statuses.items()))
        )
    server.stop()
    print(
        f"{'total':<36} {sum(total.values()):>4} requests  5xx: {failures}, "
        f"unhandled exceptions logged: {exceptions.count}"
    )
    return 1 if failures or exceptions.count else 0


if __name__ == "__main__":
    sys.exit(main())
