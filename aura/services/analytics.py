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
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from datetime import date, datetime

import sqlalchemy as sa

from aura.extensions import db
from aura.models import (
    DailyVisit,
    FilmHour,
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


def visitor_key(visitor: Visitor, day: date) -> str:
    """Who counts as one visitor today: ``u<id>`` signed in, else a salted hash."""
    if visitor.user_id is not None:
        return f"u{visitor.user_id}"
    basis = f"{visitor.client_ip or ''}|{visitor.user_agent or ''}".encode()
    return "h" + hmac.new(_salt(day), basis, hashlib.sha256).hexdigest()[:32]


def _first_visit(subject: str, key: str, at: datetime) -> bool:
    """Count ``key`` for ``subject`` today; True the first time only."""
    return upserts.insert_new(DailyVisit, subject=subject, day=at.date(), visitor=key, at=at)


def _log(kind: str, visitor: Visitor, key: str | None, bot: bool, at: datetime, **subject) -> None:
    db.session.add(
        View(
            kind=kind,
            user_id=visitor.user_id,
            client_ip=stored_ip(visitor.client_ip),
            user_agent=(visitor.user_agent or "")[:512] or None,
            referrer=(visitor.referrer or "")[:1024] or None,
            visitor=key,
            bot=bot,
            at=at,
            **subject,
        )
    )


def _count_site_visitor(key: str, at: datetime) -> None:
    if _first_visit("site", key, at):
        upserts.add(TrafficDay, {"day": at.date()}, visitors=1)


def _count_film(movie_id: int, key: str, at: datetime, *, views: int, plays: int) -> None:
    first = _first_visit(f"film:{movie_id}", key, at)
    upserts.add(
        FilmHour,
        {"movie_id": movie_id, "hour": hour_of(at)},
        views=views,
        plays=plays,
        visitors=int(first),
    )
    if first:
        scores.film_visited(movie_id, at)


def film_viewed(movie_id: int, visitor: Visitor) -> None:
    """Someone opened a film's page: log it and count it. Commits."""
    at = utcnow()
    if is_bot(visitor.user_agent):
        _log("detail", visitor, None, True, at, movie_id=movie_id)
        upserts.add(TrafficHour, {"hour": hour_of(at)}, bots=1)
        db.session.commit()
        return
    key = visitor_key(visitor, at.date())
    _log("detail", visitor, key, False, at, movie_id=movie_id)
    upserts.add(TrafficHour, {"hour": hour_of(at)}, views=1)
    _count_site_visitor(key, at)
    _count_film(movie_id, key, at, views=1, plays=0)
    db.session.commit()


def video_played(video_id: uuid.UUID, movie_id: int | None, visitor: Visitor) -> None:
    """A video started playing under a new grant: log it and count it, for its film too.
    Does not commit: the grant's claim and this count are one unit of work."""
    at = utcnow()
    if is_bot(visitor.user_agent):
        _log("play", visitor, None, True, at, video_id=video_id, movie_id=movie_id)
        upserts.add(TrafficHour, {"hour": hour_of(at)}, bots=1)
        return
    key = visitor_key(visitor, at.date())
    _log("play", visitor, key, False, at, video_id=video_id, movie_id=movie_id)
    upserts.add(TrafficHour, {"hour": hour_of(at)}, plays=1)
    _count_site_visitor(key, at)
    first = _first_visit(f"video:{video_id}", key, at)
    upserts.add(
        VideoHour, {"video_id": video_id, "hour": hour_of(at)}, plays=1, visitors=int(first)
    )
    if first:
        db.session.execute(
            sa.update(Video).where(Video.id == video_id).values(view_count=Video.view_count + 1)
        )
    if movie_id is not None:
        _count_film(movie_id, key, at, views=0, plays=1)
