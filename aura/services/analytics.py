"""Views of films and plays of videos, recorded the way the dashboard counts them.

Each view writes its raw ``View`` row (kept for ``AURA_VIEW_RETENTION_DAYS``) and, in the same
unit of work, the rollups the dashboard reads: site counts per hour, unique visitors per day,
and per film and video counts per hour. What the numbers mean:

- a *view* is a film page opened, a *play* a video started (once per access grant, however
  many range requests the player makes);
- a *visitor* is a signed-in user, or else a keyed hash of address and browser with a salt that
  changes every day (as Plausible does), counted once per day per site, film and video;
- requests from programs that say they are bots are logged, marked, and counted nowhere else;
- trending and a film's view count move once per visitor per day, so reloading a page does not
  push a film up a row.

Film pages are what Aura serves most, so their views are written behind the request, as
GoatCounter does: each serving process keeps the views it served in a short queue and writes
them every ``AURA_VIEW_FLUSH_SECONDS`` (1 s) in one transaction, raw rows, rollups and row scores
together, each table in one executemany. A view reaches the dashboard up to that long after it
happened, and a process that is killed loses the views of its last second; ``0`` writes each
view in its own request. A play is counted in its request, in the unit of work that claims its
access grant.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import Flask, current_app

from aura.extensions import db
from aura.models import (
    DailyVisit,
    FilmHour,
    Movie,
    TrafficDay,
    TrafficHour,
    Video,
    VideoHour,
    View,
    VisitorSalt,
    utcnow,
)
from aura.services import scores, upserts
from aura.services.addresses import stored_ip
from aura.services.visitors import Visitor

log = logging.getLogger(__name__)

FLUSH_AT = 500  # pending views that wake the writer before its time
MAX_PENDING = 100_000  # kept while the database is away; the oldest go first beyond this

# What crawlers, monitors, link previews and scripts put in their user agents.
_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|archiver|monitor|uptime|preview|headless|phantomjs|"
    r"python-|curl/|wget/|go-http|java/|libwww|httpclient|okhttp|scrapy|lighthouse|"
    r"facebookexternalhit|embedly|whatsapp|bingpreview",
    re.IGNORECASE,
)


def is_bot(user_agent: str | None) -> bool:
    """Whether the user agent says it is a program (every browser sends one)."""
    return not user_agent or _BOT.search(user_agent) is not None


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _salt(day: date) -> bytes:
    """That day's random salt, the same for every process (made by whichever asks first)."""
    found = db.session.get(VisitorSalt, day)
    if found is None:
        upserts.insert_new(VisitorSalt, day=day, salt=secrets.token_hex(32))
        found = db.session.get(VisitorSalt, day)
    return bytes.fromhex(found.salt)


def visitor_key(visitor: Visitor, day: date, salts: dict[date, bytes] | None = None) -> str:
    """Who counts as one visitor today: ``u<id>`` signed in, else a salted hash. ``salts``
    keeps the days' salts across the views of one batch."""
    if visitor.user_id is not None:
        return f"u{visitor.user_id}"
    salts = {} if salts is None else salts
    if day not in salts:
        salts[day] = _salt(day)
    basis = f"{visitor.client_ip or ''}|{visitor.user_agent or ''}".encode()
    return "h" + hmac.new(salts[day], basis, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Hit:
    """One film page opened (``detail``) or one video started (``play``), not yet counted."""

    kind: str
    at: datetime
    visitor: Visitor
    movie_id: int | None = None
    video_id: uuid.UUID | None = None

    def subjects(self) -> list[str]:
        """What a person is counted as a visitor of: the site, the film, the video."""
        found = ["site"]
        if self.movie_id is not None:
            found.append(f"film:{self.movie_id}")
        if self.video_id is not None:
            found.append(f"video:{self.video_id}")
        return found


_INSERT_VIEW = sa.insert(View.__table__)
_COUNT_VIDEO_VISITS = (
    sa.update(Video.__table__)
    .where(Video.__table__.c.id == sa.bindparam("video", type_=sa.Uuid))
    .values(view_count=Video.__table__.c.view_count + sa.bindparam("visits", type_=sa.Integer))
)


def _view_row(hit: Hit, key: str | None, bot: bool) -> dict:
    visitor = hit.visitor
    return {
        "movie_id": hit.movie_id,
        "video_id": hit.video_id,
        "user_id": visitor.user_id,
        "client_ip": stored_ip(visitor.client_ip),
        "user_agent": (visitor.user_agent or "")[:512] or None,
        "referrer": (visitor.referrer or "")[:1024] or None,
        "kind": hit.kind,
        "visitor": key,
        "bot": bot,
        "at": hit.at,
    }


def count(hits: Sequence[Hit]) -> None:
    """Log ``hits`` and count them: raw rows, hourly and daily rollups, visitors once a day,
    the films' row scores and the videos' view counts. Each table is written with one
    statement for all of them. Does not commit."""
    if not hits:
        return
    salts: dict[date, bytes] = {}
    rows = []
    traffic: dict[datetime, list[int]] = defaultdict(lambda: [0, 0, 0])  # views, plays, bots
    films: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])  # views, plays, visitors
    videos: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])  # plays, visitors
    first_at: dict[tuple[str, date, str], datetime] = {}  # who may be new today, and when
    for hit in hits:
        hour, bot, key = hour_of(hit.at), is_bot(hit.visitor.user_agent), None
        if bot:
            traffic[hour][2] += 1
        else:
            key = visitor_key(hit.visitor, hit.at.date(), salts)
            play = int(hit.kind == "play")
            traffic[hour][play] += 1
            if hit.movie_id is not None:
                films[(hit.movie_id, hour)][play] += 1
            if hit.video_id is not None:
                videos[(hit.video_id, hour)][0] += 1
            for subject in hit.subjects():
                first_at.setdefault((subject, hit.at.date(), key), hit.at)
        rows.append(_view_row(hit, key, bot))
    db.session.execute(_INSERT_VIEW, rows)

    new = upserts.insert_new_many(
        DailyVisit,
        [
            {"subject": subject, "day": day, "visitor": key, "at": at}
            for (subject, day, key), at in first_at.items()
        ],
    )
    new_days: Counter[date] = Counter()
    film_visits: list[tuple[int, datetime]] = []
    video_visits: Counter[uuid.UUID] = Counter()
    for subject, day, key in new:
        at = first_at[(subject, day, key)]
        kind, _, name = subject.partition(":")
        if kind == "site":
            new_days[day] += 1
        elif kind == "film":
            films[(int(name), hour_of(at))][2] += 1
            film_visits.append((int(name), at))
        else:
            videos[(uuid.UUID(name), hour_of(at))][1] += 1
            video_visits[uuid.UUID(name)] += 1
    upserts.add_many(
        TrafficHour,
        ("hour",),
        [{"hour": h, "views": v, "plays": p, "bots": b} for h, (v, p, b) in traffic.items()],
    )
    upserts.add_many(TrafficDay, ("day",), [{"day": d, "visitors": n} for d, n in new_days.items()])
    upserts.add_many(
        FilmHour,
        ("movie_id", "hour"),
        [
            {"movie_id": m, "hour": h, "views": v, "plays": p, "visitors": n}
            for (m, h), (v, p, n) in films.items()
        ],
    )
    upserts.add_many(
        VideoHour,
        ("video_id", "hour"),
        [
            {"video_id": m, "hour": h, "plays": p, "visitors": n}
            for (m, h), (p, n) in videos.items()
        ],
    )
    if video_visits:
        db.session.execute(
            _COUNT_VIDEO_VISITS, [{"video": v, "visits": n} for v, n in video_visits.items()]
        )
    scores.films_visited(film_visits)


def film_viewed(movie_id: int, visitor: Visitor) -> None:
    """Someone opened a film's page: log it and count it, within ``AURA_VIEW_FLUSH_SECONDS``
    by this process's writer, or now (committed) when that is 0."""
    hit = Hit("detail", utcnow(), visitor, movie_id=movie_id)
    if current_app.config["VIEW_FLUSH_SECONDS"] <= 0:
        count([hit])
        db.session.commit()
        return
    pending_views(current_app._get_current_object()).add(hit)


def video_played(video_id: uuid.UUID, movie_id: int | None, visitor: Visitor) -> None:
    """A video started playing under a new grant: log it and count it, for its film too.
    Does not commit: the grant's claim and this count are one unit of work."""
    count([Hit("play", utcnow(), visitor, movie_id=movie_id, video_id=video_id)])


# -- the writer behind the requests ---------------------------------------------------------------


class PendingViews:
    """The film views one process served and has not written yet, and the thread that writes
    them every ``AURA_VIEW_FLUSH_SECONDS`` (sooner once ``FLUSH_AT`` are waiting)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.every = float(app.config["VIEW_FLUSH_SECONDS"])
        self._hits: list[Hit] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._failing = False
        self.dropped = 0
        atexit.register(self.flush)

    def add(self, hit: Hit) -> None:
        with self._lock:
            if len(self._hits) >= MAX_PENDING:
                del self._hits[0]
                self.dropped += 1
            self._hits.append(hit)
            waiting = len(self._hits)
            if self._thread is None or self._pid != os.getpid():  # first, or after a fork
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="aura-views", daemon=True)
                self._thread.start()
        if waiting >= FLUSH_AT:
            self._wake.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._hits)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.every)
            self._wake.clear()
            self.flush()

    def flush(self) -> int:
        """Write what is waiting, in one transaction; how many views were written. Views of
        films deleted meanwhile are dropped; if the database is away, they wait for the next
        try (at most ``MAX_PENDING``)."""
        with self._lock:
            batch, self._hits = self._hits, []
        if not batch:
            return 0
        with self.app.app_context():
            try:
                known = set(
                    db.session.scalars(
                        sa.select(Movie.id).where(Movie.id.in_({hit.movie_id for hit in batch}))
                    )
                )
                kept = [hit for hit in batch if hit.movie_id in known]
                count(kept)
                db.session.commit()
            except Exception:
                db.session.rollback()
                if not self._failing:
                    log.exception(
                        "could not write %d views; they wait for the next try", len(batch)
                    )
                self._failing = True
                with self._lock:
                    room = MAX_PENDING - len(self._hits)
                    self.dropped += max(0, len(batch) - room)
                    self._hits[:0] = batch[-room:] if room > 0 else []
                return 0
            finally:
                db.session.remove()
        self._failing = False
        return len(kept)


_made = threading.Lock()


def pending_views(app: Flask) -> PendingViews:
    """This app's queue of views to write (made the first time a view waits)."""
    found = app.extensions.get("aura_pending_views")
    if found is None:
        with _made:
            found = app.extensions.get("aura_pending_views")
            if found is None:
                found = app.extensions["aura_pending_views"] = PendingViews(app)
    return found


def flush() -> int:
    """Write the current app's waiting views now (the writer does it on its own)."""
    found = current_app.extensions.get("aura_pending_views")
    return found.flush() if found is not None else 0
