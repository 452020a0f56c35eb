"""What one viewer of the load benchmark does, what it was told, and the check of that against
the database.

A viewer signs in, then browses (home, rows and their infinite-scroll pages, film pages),
searches, rates, toggles its watchlist, plays videos with range requests (a probe, a seek, a
stream it leaves half read) and reports its position. Every write the site confirmed goes into
the viewer's ledger; a write whose answer never came (a dropped connection, a 5xx) is kept as
"maybe", so the check accepts either outcome for it but never a value nobody wrote.

No Locust here: ``bench/locustfile.py`` drives these viewers under Locust, and
``tests/test_load_smoke.py`` drives them from plain threads with ``requests``.
"""

from __future__ import annotations

import base64
import json
import random
import re
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from html import unescape
from typing import Any, Protocol

import sqlalchemy as sa

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36 AuraLoad/1"
)
PASSWORD = "load viewer password 7"  # every viewer's; the bench stores one hash for all
SEARCH_WORDS = ["night", "love", "dark", "king", "city", "star", "man", "life", "war", "the"]
ROWS = ["trending", "popular", "top_rated"]
HX = {"HX-Request": "true"}

_MOVIE_LINK = re.compile(r'href="/movies/([0-9]+)"')
_NEXT_PAGE = re.compile(r'hx-get="(/rows/[a-z_]+\?[^"]*after=[^"]+)"')
_HX_CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')
_FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Http(Protocol):
    """What a viewer needs from its HTTP client: Locust's HttpSession, or requests with a base
    URL (``Site`` below). Answers ``None`` when no response came at all."""

    def send(self, method: str, path: str, name: str, **kwargs: Any) -> Any | None: ...

    def cookie(self, name: str) -> str | None: ...


@dataclass
class Ledger:
    """What one viewer was told. Each key's set holds the values the database may hold for it:
    the last confirmed one, plus any written after it whose answer never came. ``None`` is
    "absent" (no rating, not on the watchlist, no position)."""

    email: str
    statuses: Counter = field(default_factory=Counter)  # (request name, status) -> count
    ratings: dict[int, set] = field(default_factory=dict)
    watchlist: dict[int, set] = field(default_factory=dict)
    progress: dict[str, set] = field(default_factory=dict)
    detail_views: int = 0  # film pages answered 200: one view each
    detail_maybe: int = 0  # film pages with no answer: a view or not
    plays: set = field(default_factory=set)  # grant tokens that streamed: one play each
    plays_maybe: set = field(default_factory=set)
    writes: int = 0  # writes confirmed

    def wrote(self, table: dict, key: Any, value: Any, confirmed: bool) -> None:
        if confirmed:
            table[key] = {value}
            self.writes += 1
        else:
            table.setdefault(key, {None}).add(value)

    def to_json(self) -> dict:
        return {
            "email": self.email,
            "statuses": [[name, status, n] for (name, status), n in self.statuses.items()],
            "ratings": {str(k): sorted(v, key=str) for k, v in self.ratings.items()},
            "watchlist": {str(k): sorted(v, key=str) for k, v in self.watchlist.items()},
            "progress": {k: sorted(v, key=str) for k, v in self.progress.items()},
            "detail_views": self.detail_views,
            "detail_maybe": self.detail_maybe,
            "plays": sorted(self.plays),
            "plays_maybe": sorted(self.plays_maybe),
            "writes": self.writes,
        }

    @classmethod
    def from_json(cls, data: dict) -> Ledger:
        ledger = cls(data["email"])
        ledger.statuses = Counter({(n, s): c for n, s, c in data["statuses"]})
        ledger.ratings = {int(k): set(v) for k, v in data["ratings"].items()}
        ledger.watchlist = {int(k): set(v) for k, v in data["watchlist"].items()}
        ledger.progress = {k: set(v) for k, v in data["progress"].items()}
        ledger.detail_views = data["detail_views"]
        ledger.detail_maybe = data["detail_maybe"]
        ledger.plays = set(data["plays"])
        ledger.plays_maybe = set(data["plays_maybe"])
        ledger.writes = data["writes"]
        return ledger


@dataclass(frozen=True)
class Catalog:
    """What the viewers pick from: film ids and videos as (id, size in bytes, duration in s)."""

    movie_ids: list[int]
    videos: list[tuple[str, int, float]]

    def to_json(self) -> dict:
        return {"movie_ids": self.movie_ids, "videos": [list(v) for v in self.videos]}

    @classmethod
    def from_json(cls, data: dict) -> Catalog:
        return cls(data["movie_ids"], [tuple(v) for v in data["videos"]])


def session_grants(cookie: str | None) -> dict[str, str]:
    """The grants a Flask session cookie carries ({video id: token}): the cookie is signed, not
    encrypted, so a client can read it."""
    if not cookie:
        return {}
    compressed = cookie.startswith(".")
    payload = cookie.lstrip(".").split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        data = json.loads(zlib.decompress(raw) if compressed else raw)
    except (ValueError, zlib.error):
        return {}
    held = data.get("grants") if isinstance(data, dict) else None
    return {pair[0]: pair[1] for pair in held or [] if isinstance(pair, list) and len(pair) == 2}


class Site:
    """``Http`` over requests: one session (cookies, keep-alive) against a base URL."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout
        self.errors = (requests.RequestException, OSError)

    def send(self, method: str, path: str, name: str, **kwargs: Any) -> Any | None:
        kwargs.setdefault("timeout", self.timeout)
        try:
            return self.session.request(method, self.base_url + path, **kwargs)
        except self.errors:
            return None

    def cookie(self, name: str) -> str | None:
        return self.session.cookies.get(name)

    def close(self) -> None:
        self.session.close()


class Viewer:
    """One signed-in viewer. Each public method is one thing a person does on the site."""

    def __init__(self, http: Http, email: str, catalog: Catalog, seed: int | None = None) -> None:
        self.http = http
        self.catalog = catalog
        self.ledger = Ledger(email)
        self.random = random.Random(seed)
        self.csrf: str | None = None
        self.seen: list[int] = []  # film ids met while browsing
        self.watching: set[str] = set()  # videos whose player page this viewer opened

    # -- plumbing -------------------------------------------------------------------------------

    def send(self, method: str, path: str, name: str, **kwargs: Any) -> Any | None:
        headers = {"User-Agent": BROWSER_UA, **kwargs.pop("headers", {})}
        if method == "POST" and self.csrf:
            headers["X-CSRFToken"] = self.csrf
        response = self.http.send(method, path, name, headers=headers, **kwargs)
        status = getattr(response, "status_code", 0) or 0
        self.ledger.statuses[(name, status)] += 1
        return response if status else None

    @staticmethod
    def ok(response: Any | None, *statuses: int) -> bool:
        return response is not None and response.status_code in (statuses or (200,))

    def _films(self, html: str) -> None:
        found = [int(n) for n in _MOVIE_LINK.findall(html)]
        if found:
            self.seen = (self.seen + found)[-200:]

    def film(self) -> int:
        if self.seen and self.random.random() < 0.5:
            return self.random.choice(self.seen)
        return self.random.choice(self.catalog.movie_ids)

    # -- what a person does ---------------------------------------------------------------------

    def sign_in(self, password: str = PASSWORD) -> bool:
        page = self.send("GET", "/auth/login", "/auth/login")
        if not self.ok(page):
            return False
        token = _FORM_CSRF.search(page.text)
        answer = self.send(
            "POST",
            "/auth/login",
            "/auth/login [post]",
            data={
                "email": self.ledger.email,
                "password": password,
                "csrf_token": token.group(1) if token else "",
            },
            allow_redirects=False,
        )
        if not self.ok(answer, 303):
            return False
        return self.home()

    def home(self) -> bool:
        page = self.send("GET", "/", "/")
        if not self.ok(page):
            return False
        token = _HX_CSRF.search(page.text)
        if token:
            self.csrf = token.group(1)
        self._films(page.text)
        self.send("GET", "/", "/ [fragment]", headers=HX)
        return True

    def browse_row(self) -> None:
        """A row's page, then two or three more as infinite scroll asks for them."""
        row = self.random.choice(ROWS)
        path, name = f"/rows/{row}", "/rows/<row>"
        for _ in range(self.random.randint(2, 4)):
            page = self.send("GET", path, name, headers=HX)
            if not self.ok(page):
                return
            self._films(page.text)
            following = _NEXT_PAGE.search(page.text)
            if not following:
                return
            path, name = unescape(following.group(1)), "/rows/<row>?after="

    def open_film(self) -> None:
        page = self.send("GET", f"/movies/{self.film()}", "/movies/<id>")
        if page is None or page.status_code >= 500:
            self.ledger.detail_maybe += 1
        elif page.status_code == 200:
            self.ledger.detail_views += 1
            self._films(page.text)

    def search(self) -> None:
        word = self.random.choice(SEARCH_WORDS)
        page = self.send("GET", "/search", "/search", params={"q": word}, headers=HX)
        if self.ok(page):
            self._films(page.text)

    def rate(self) -> None:
        movie = self.film()
        score = self.random.randint(1, 10)
        answer = self.send(
            "POST", f"/library/ratings/{movie}", "/library/ratings/<id>",
            data={"score": str(score), "review": ""}, headers=HX,
        )  # fmt: skip
        if answer is None or answer.status_code >= 500:
            self.ledger.wrote(self.ledger.ratings, movie, score, confirmed=False)
        elif answer.status_code == 200:
            self.ledger.wrote(self.ledger.ratings, movie, score, confirmed=True)

    def toggle_watchlist(self) -> None:
        movie = self.film()
        on = self.random.random() < 0.6
        answer = self.send(
            "POST", f"/library/watchlist/{movie}", "/library/watchlist/<id>",
            data={"on": "1" if on else "0"}, headers=HX,
        )  # fmt: skip
        value = True if on else None
        if answer is None or answer.status_code >= 500:
            self.ledger.wrote(self.ledger.watchlist, movie, value, confirmed=False)
        elif answer.status_code == 200:
            self.ledger.wrote(self.ledger.watchlist, movie, value, confirmed=True)

    def library(self) -> None:
        self.send("GET", "/library", "/library")

    def play(self) -> None:
        """The player page, then what a browser's player asks for: a 2-byte probe, a seek to a
        random place read whole, and a stream from there that is left after 64 KiB."""
        video_id, size, _duration = self.random.choice(self.catalog.videos)
        page = self.send("GET", f"/watch/{video_id}", "/watch/<id>")
        if not self.ok(page):
            return
        self.watching.add(video_id)
        token = session_grants(self.http.cookie("aura_session")).get(video_id)
        at = self.random.randrange(0, max(1, size - 256 * 1024))
        for range_header, whole in (
            ("bytes=0-1", True),
            (f"bytes={at}-{min(size - 1, at + 256 * 1024 - 1)}", True),
            (f"bytes={at}-", False),
        ):
            answer = self.send(
                "GET", f"/stream/{video_id}", "/stream/<id>",
                headers={"Range": range_header}, stream=True,
            )  # fmt: skip
            if answer is None:
                if token:
                    self.ledger.plays_maybe.add(token)
                continue
            try:
                if whole:
                    answer.content  # noqa: B018  (reads the body)
                else:
                    answer.raw.read(64 * 1024)  # the viewer seeks away: the rest is never read
            except Exception:  # the connection broke: the play may or may not have counted
                if token:
                    self.ledger.plays_maybe.add(token)
            finally:
                answer.close()
            if token and answer.status_code in (200, 206):
                self.ledger.plays.add(token)
            elif token and answer.status_code >= 500:
                self.ledger.plays_maybe.add(token)

    def report_progress(self) -> None:
        """What the player posts while playing: a position between 10% and 80% (kept as is)."""
        choices = [v for v in self.catalog.videos if v[0] in self.watching]
        if not choices:
            return self.play()
        video_id, _size, duration = self.random.choice(choices)
        position = round(duration * self.random.uniform(0.1, 0.8), 1)
        answer = self.send(
            "POST", f"/watch/{video_id}/progress", "/watch/<id>/progress",
            data={"position": f"{position:.1f}", "duration": f"{duration:.1f}"},
        )  # fmt: skip
        if answer is None or answer.status_code >= 500:
            self.ledger.wrote(self.ledger.progress, video_id, position, confirmed=False)
        elif answer.status_code == 204:
            self.ledger.wrote(self.ledger.progress, video_id, position, confirmed=True)
        return None

    # -- the mix --------------------------------------------------------------------------------

    MIX = (
        ("browse_row", 6),
        ("open_film", 6),
        ("search", 3),
        ("home", 2),
        ("rate", 3),
        ("toggle_watchlist", 3),
        ("play", 2),
        ("report_progress", 3),
        ("library", 1),
    )

    def step(self) -> None:
        """One thing, picked by the weights of ``MIX``."""
        names = [name for name, _ in self.MIX]
        weights = [weight for _, weight in self.MIX]
        getattr(self, self.random.choices(names, weights)[0])()


# -- the check ----------------------------------------------------------------------------------


@dataclass
class Report:
    requests: int = 0
    by_status: Counter = field(default_factory=Counter)
    server_errors: Counter = field(default_factory=Counter)  # (name, status) -> count
    no_answer: int = 0
    confirmed_writes: int = 0
    lost: list[str] = field(default_factory=list)  # what the database lacks or got wrong
    unhandled: int = 0  # unhandled exceptions the server logged, when the caller counts them

    @property
    def five_xx(self) -> int:
        return sum(self.server_errors.values())

    def summary(self) -> str:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.by_status.items()))
        lines = [
            f"requests {self.requests}   5xx {self.five_xx}   no answer {self.no_answer}   "
            f"writes confirmed {self.confirmed_writes}   lost writes {len(self.lost)}",
            f"   statuses: {statuses}",
        ]
        for (name, status), n in sorted(self.server_errors.items()):
            lines.append(f"   5xx: {name} answered {status} x{n}")
        lines += [f"   lost: {line}" for line in self.lost[:20]]
        return "\n".join(lines)


def check(engine: sa.engine.Engine, ledgers: list[Ledger]) -> Report:
    """Compare what the viewers were told with what the database holds."""
    report = Report()
    for ledger in ledgers:
        for (name, status), n in ledger.statuses.items():
            report.requests += n
            report.by_status[status] += n
            if status >= 500:
                report.server_errors[(name, status)] += n
            if status == 0:
                report.no_answer += n
        report.confirmed_writes += ledger.writes + ledger.detail_views + len(ledger.plays)
    with engine.connect() as connection:
        for ledger in ledgers:
            _check_one(connection, ledger, report.lost)
    return report


def _check_one(connection: sa.Connection, ledger: Ledger, lost: list[str]) -> None:
    who = ledger.email
    user_id = connection.scalar(sa.text('SELECT id FROM "user" WHERE email = :e'), {"e": who})
    if user_id is None:
        lost.append(f"{who}: no such user")
        return
    ratings = dict(
        connection.execute(
            sa.text("SELECT movie_id, score FROM rating WHERE user_id = :u"), {"u": user_id}
        ).all()
    )
    for movie, allowed in ledger.ratings.items():
        if ratings.get(movie) not in allowed:
            lost.append(f"{who}: rating of film {movie} is {ratings.get(movie)}, told {allowed}")
    listed = set(
        connection.scalars(
            sa.text("SELECT movie_id FROM watchlist_entry WHERE user_id = :u"), {"u": user_id}
        )
    )
    for movie, allowed in ledger.watchlist.items():
        state = True if movie in listed else None
        if state not in allowed:
            lost.append(f"{who}: film {movie} on watchlist: {state}, told {allowed}")
    positions = {
        str(uuid.UUID(str(video))): position
        for video, position, watched in connection.execute(
            sa.text(
                "SELECT video_id, position_seconds, watched FROM playback_progress "
                "WHERE user_id = :u"
            ),
            {"u": user_id},
        ).all()
        if not watched
    }
    for video, allowed in ledger.progress.items():
        found = positions.get(str(uuid.UUID(video)))
        if not any(_same_position(found, a) for a in allowed):
            lost.append(f"{who}: position in video {video} is {found}, told {allowed}")
    details = connection.scalar(
        sa.text("SELECT count(*) FROM view WHERE user_id = :u AND kind = 'detail'"),
        {"u": user_id},
    )
    if not ledger.detail_views <= details <= ledger.detail_views + ledger.detail_maybe:
        lost.append(
            f"{who}: {details} film page views counted, {ledger.detail_views} served "
            f"(+{ledger.detail_maybe} unanswered)"
        )
    plays = connection.scalar(
        sa.text("SELECT count(*) FROM view WHERE user_id = :u AND kind = 'play'"), {"u": user_id}
    )
    maybe = len(ledger.plays_maybe - ledger.plays)
    if not len(ledger.plays) <= plays <= len(ledger.plays) + maybe:
        lost.append(
            f"{who}: {plays} plays counted, {len(ledger.plays)} grants streamed (+{maybe} unsure)"
        )


def _same_position(found: float | None, told: float | None) -> bool:
    if found is None or told is None:
        return found is told
    return abs(found - told) < 0.05
