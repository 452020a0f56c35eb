"""Choosing a film's trailer: TMDB's videos, ranked, checked for embeddability, cached on the film.

Candidates are TMDB's YouTube videos of type Trailer (then Teaser), official first, in Aura's
language first, newest first. With a YouTube API key one ``videos.list`` call checks them all;
without one, oEmbed checks them in order until one embeds. Only when none does, and the daily
budget allows, does ``search.list`` look for one. The choice and the time it was made are kept
on the film and trusted for AURA_TRAILER_TTL_DAYS.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

from aura.clients import fields
from aura.clients import tmdb as tmdb_client
from aura.clients import youtube as youtube_client
from aura.clients.errors import TMDBNotFound, YouTubeAuthError, YouTubeQuotaExceeded
from aura.clients.http import Deadline, Outage
from aura.clients.tmdb_types import Video
from aura.clients.youtube import Embeddability, YouTubeClient
from aura.errors import UpstreamUnavailable
from aura.extensions import cache, db
from aura.models import Movie, utcnow

log = logging.getLogger(__name__)

TYPES = {"Trailer": 0, "Teaser": 1}
OEMBED_CANDIDATES = 5  # oEmbed costs a request per video: look at the best few only
outage = Outage("trailers")


@dataclass(frozen=True)
class TrailerChoice:
    key: str | None  # a validated YouTube key, or None when there is no trailer at all
    embeddable: bool | None


@dataclass(frozen=True)
class TrailerStatus:
    """What the film page can show: the trailer (if it embeds) and whether it is current."""

    key: str | None
    embeddable: bool | None
    checked_at: datetime | None
    state: str  # off | fresh | checked | busy | stale

    @property
    def embed_key(self) -> str | None:
        """The key to embed, only when it is known to embed and is well formed."""
        return fields.youtube_key(self.key) if self.embeddable else None

    @property
    def notice(self) -> str | None:
        if self.state == "stale":
            return "Showing the saved trailer details: YouTube or TMDB is not answering."
        return None


def rank_candidates(videos: list[Video], language: str) -> list[Video]:
    """YouTube trailers then teasers: official, in ``language``, newest first."""
    usable = [v for v in videos if v.youtube_key and v.type in TYPES]
    usable.sort(key=lambda v: -(v.published_at.timestamp()) if v.published_at else 0.0)
    usable.sort(key=lambda v: (not v.official, TYPES[v.type], v.language != language))
    return usable


def choose(
    videos: list[Video],
    youtube: YouTubeClient,
    *,
    title: str,
    year: int | None,
    language: str,
) -> TrailerChoice:
    """The best candidate that embeds; else a search; else the best that exists. May raise
    UpstreamUnavailable subclasses (the caller decides what a failure means)."""
    keys = [v.youtube_key for v in rank_candidates(videos, language) if v.youtube_key]
    refused: str | None = None  # the best video that exists but will not embed
    verdicts = None
    if keys and youtube.has_api_key:
        try:
            verdicts = youtube.statuses(keys)
        except (YouTubeQuotaExceeded, YouTubeAuthError) as error:
            # The Data API will not answer today; keyless oEmbed still can.
            log.info("videos.list unavailable (%s); asking oEmbed", error.message)
    if verdicts is not None:
        for key in keys:
            if verdicts.get(key) is Embeddability.EMBEDDABLE:
                return TrailerChoice(key, True)
        refused = next((k for k in keys if verdicts.get(k) is Embeddability.NOT_EMBEDDABLE), None)
    elif keys:
        for key in keys[:OEMBED_CANDIDATES]:
            verdict = youtube.oembed(key)
            if verdict is Embeddability.EMBEDDABLE:
                return TrailerChoice(key, True)
            if verdict is Embeddability.NOT_EMBEDDABLE and refused is None:
                refused = key
    found = _search(youtube, title, year)
    if found is not None:
        return TrailerChoice(found, True)
    return TrailerChoice(refused, False) if refused else TrailerChoice(None, None)


def _search(youtube: YouTubeClient, title: str, year: int | None) -> str | None:
    """The last resort: 100 quota units for a search, only with a key and budget left."""
    if not youtube.has_api_key or youtube.search_quota.limit <= 0:
        return None
    query = f"{title} {year} official trailer" if year else f"{title} official trailer"
    try:
        found = youtube.search(query)
    except (YouTubeQuotaExceeded, YouTubeAuthError) as error:
        log.info("no trailer search for %r: %s", title, error.message)
        return None
    verdicts = youtube.statuses(found)
    return next((k for k in found if verdicts.get(k) is Embeddability.EMBEDDABLE), None)


def is_fresh(movie: Movie, now: datetime | None = None) -> bool:
    """Whether the film's trailer was checked within AURA_TRAILER_TTL_DAYS."""
    if movie.trailer_checked_at is None:
        return False
    ttl = timedelta(days=current_app.config.get("TRAILER_TTL_DAYS", 7))
    return (now or utcnow()) - movie.trailer_checked_at < ttl


def language() -> str:
    return str(current_app.config.get("TMDB_LANGUAGE", "en-US")).split("-")[0]


def refresh_trailer(movie: Movie, videos: list[Video], youtube: YouTubeClient) -> TrailerChoice:
    """Choose from ``videos`` and set the film's trailer columns (for the sync; no commit).

    Raises UpstreamUnavailable subclasses when YouTube cannot answer; the film is then untouched.
    """
    choice = choose(videos, youtube, title=movie.title, year=movie.year, language=language())
    movie.trailer_key = choice.key
    movie.trailer_embeddable = choice.embeddable
    movie.trailer_checked_at = utcnow()
    return choice


def _status(movie: Movie, state: str) -> TrailerStatus:
    return TrailerStatus(
        fields.youtube_key(movie.trailer_key),
        movie.trailer_embeddable,
        movie.trailer_checked_at,
        state,
    )


def ensure_trailer(movie: Movie, budget_seconds: float = 2.0) -> TrailerStatus:
    """The film's trailer, re-checked when its check is older than the TTL. Never raises for
    outside trouble: it logs, keeps what the database has, and says so (state "stale").

    The film page calls it; all outside calls together stay within ``budget_seconds``. The new
    choice is written on a connection of its own, so the caller's session and loaded objects
    (and anything it has not committed) are left as they are.
    """
    if not tmdb_client.is_configured():
        return _status(movie, "off")
    now = utcnow()
    if is_fresh(movie, now):
        return _status(movie, "fresh")
    if movie.tmdb_id is None and not current_app.config.get("YOUTUBE_API_KEY"):
        return _status(movie, "off")  # nothing to ask TMDB about, and no key to search with
    if outage.active():
        return _status(movie, "stale")
    lock = f"trailers:checking:{movie.id}"
    if not cache.add(lock, 1, timeout=int(budget_seconds) + 10):
        return _status(movie, "busy")  # another request is checking this film right now
    try:
        deadline = Deadline(budget_seconds)
        videos: list[Video] = []
        if movie.tmdb_id is not None:
            try:
                videos = tmdb_client.get_client(deadline).videos(movie.tmdb_id)
            except TMDBNotFound:
                videos = []  # TMDB dropped the film: no candidates, perhaps a search
        choice = choose(
            videos,
            youtube_client.get_client(deadline),
            title=movie.title,
            year=movie.year,
            language=language(),
        )
    except UpstreamUnavailable as error:
        log.warning("trailer check for film %s failed: %s", movie.id, error.message)
        outage.note()
        return _status(movie, "stale")
    finally:
        cache.delete(lock)
    if not _save(movie, choice, now):
        return TrailerStatus(choice.key, choice.embeddable, now, "stale")
    return TrailerStatus(choice.key, choice.embeddable, now, "checked")


def _save(movie: Movie, choice: TrailerChoice, now: datetime) -> bool:
    """Write the choice in a short transaction of its own, then show it on ``movie``."""
    table = Movie.__table__
    values = {
        "trailer_key": fields.youtube_key(choice.key),
        "trailer_embeddable": choice.embeddable,
        "trailer_checked_at": now,
    }
    try:
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Never wait long behind a caller that holds this row: better unsaved than stuck.
                connection.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            connection.execute(
                sa.update(table)
                .where(table.c.id == movie.id)
                # A trailer check is not an edit of the film: updated_at stays as it was.
                .values(**values, updated_at=table.c.updated_at)
            )
    except SQLAlchemyError as error:
        log.warning("could not save the trailer of film %s: %s", movie.id, error)
        return False
    for name, value in values.items():
        set_committed_value(movie, name, value)
    return True
