"""Stale-while-revalidate for pages: refresh a TMDB row in the background, search TMDB live.

Neither ever raises for outside trouble, and neither makes a page wait past its budget: each
returns at once with a status the page can turn into a small notice ("showing saved data").
Only one refresh of a list runs at a time across every process (a lock in the app cache,
which is Redis when Aura has one).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from aura.clients import tmdb as tmdb_client
from aura.clients.http import Deadline, Outage
from aura.clients.tmdb import LISTS
from aura.clients.tmdb_types import MoviePage
from aura.errors import NotFound, UpstreamUnavailable
from aura.extensions import cache, db
from aura.models import Movie, utcnow
from aura.services import search, tmdb_store, visibility

log = logging.getLogger(__name__)

outage = Outage("tmdb-pages")
SAVED_DATA = "Showing saved data: TMDB is not answering right now."
SEARCH_CACHE_SECONDS = 600  # active search asks as you type: one TMDB call per query a while
MIN_QUERY_CHARS = 2


@dataclass(frozen=True)
class RefreshStatus:
    state: str  # off | fresh | refreshing | busy | refreshed | stale
    worker: threading.Thread | None = field(default=None, compare=False, repr=False)

    @property
    def notice(self) -> str | None:
        """A line for the page when it is showing data it could not refresh."""
        return SAVED_DATA if self.state == "stale" else None


@dataclass(frozen=True)
class RemoteSearch:
    state: str  # off | empty | cached | fetched | stale
    movie_ids: list[int]  # local ids of TMDB's results, in TMDB's order

    @property
    def notice(self) -> str | None:
        return SAVED_DATA if self.state == "stale" else None


def refresh_list_if_stale(
    name: str,
    ttl: int | None = None,
    budget_seconds: float = 5.0,
    background: bool = True,
) -> RefreshStatus:
    """Refresh a row's first page from TMDB when it was fetched more than ``ttl`` seconds ago.

    In the background (default) it returns "refreshing" at once and the page shows what the
    database has; with ``background=False`` it refreshes within ``budget_seconds`` and returns
    "refreshed" or "stale". "busy" means another request is already refreshing this list.
    """
    if name not in LISTS:
        raise NotFound("There is no such row.")
    if not tmdb_client.is_configured():
        return RefreshStatus("off")
    ttl = ttl if ttl is not None else current_app.config.get("TMDB_LIST_TTL", 6 * 3600)
    fetched = tmdb_store.list_fetched_at(name)
    if fetched is not None and utcnow() - fetched < timedelta(seconds=ttl):
        return RefreshStatus("fresh")
    if outage.active():
        return RefreshStatus("stale")
    lock = f"tmdb:refresh:{name}"
    if not cache.add(lock, 1, timeout=int(budget_seconds) + 30):
        return RefreshStatus("busy")
    if not background:
        try:
            return RefreshStatus(_refresh(name, budget_seconds))
        finally:
            cache.delete(lock)
    app = current_app._get_current_object()
    worker = threading.Thread(
        target=_refresh_in_background, args=(app, name, budget_seconds, lock), daemon=True
    )
    worker.start()
    return RefreshStatus("refreshing", worker)


def _refresh_in_background(app: Flask, name: str, budget_seconds: float, lock: str) -> None:
    with app.app_context():
        try:
            _refresh(name, budget_seconds)
        except Exception:
            # A thread has no caller to tell: log it, keep the site's saved rows.
            log.exception("refreshing the %s row failed", name)
            db.session.rollback()
        finally:
            cache.delete(lock)
            db.session.remove()


def _refresh(name: str, budget_seconds: float) -> str:
    try:
        page = tmdb_client.get_client(Deadline(budget_seconds)).movie_list(name, 1)
    except UpstreamUnavailable as error:
        log.warning("TMDB %s row not refreshed: %s", name, error.message)
        outage.note()
        return "stale"
    ids = _store_page(page)
    tmdb_store.replace_list(name, ids, keep_tail=True)
    db.session.commit()
    return "refreshed"


def _store_page(page: MoviePage) -> list[int]:
    """Store a page of films; a race with another writer (same new film) is retried once."""
    for attempt in (1, 2):
        try:
            genres = tmdb_store.known_genres()
            stored = [tmdb_store.store_summary(summary, genres) for summary in page.results]
            tmdb_store.score_new_films(s.movie for s in stored if s.created)
            db.session.flush()
            return [s.movie.id for s in stored]
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    return []  # pragma: no cover - the loop returns or raises


def search_remote(
    query: str, budget_seconds: float = 3.0, include_hidden: bool = False
) -> RemoteSearch:
    """TMDB's first page of results for ``query``, stored in the catalog; their local ids.

    New films are added (a demo film with the same identity is merged, not duplicated);
    hidden films are left out unless ``include_hidden``. Never raises for TMDB trouble.
    """
    cleaned = search.clean_query(query)
    if len(cleaned) < MIN_QUERY_CHARS:
        return RemoteSearch("empty", [])
    if not tmdb_client.is_configured():
        return RemoteSearch("off", [])
    key = "tmdb:search:" + hashlib.sha256(cleaned.casefold().encode("utf-8")).hexdigest()
    tmdb_ids = cache.get(key)
    state = "cached"
    if tmdb_ids is None:
        if outage.active():
            return RemoteSearch("stale", [])
        try:
            page = tmdb_client.get_client(Deadline(budget_seconds)).search(cleaned)
        except UpstreamUnavailable as error:
            log.warning("TMDB search not answered: %s", error.message)
            outage.note()
            return RemoteSearch("stale", [])
        _store_page(page)
        db.session.commit()
        tmdb_ids = [summary.id for summary in page.results]
        cache.set(key, tmdb_ids, timeout=SEARCH_CACHE_SECONDS)
        state = "fetched"
    return RemoteSearch(state, _local_ids(tmdb_ids, include_hidden))


def _local_ids(tmdb_ids: list[int], include_hidden: bool) -> list[int]:
    if not tmdb_ids:
        return []
    stmt = sa.select(Movie.tmdb_id, Movie.id).where(
        Movie.tmdb_id.in_(tmdb_ids), visibility.films(include_hidden)
    )
    local = dict(db.session.execute(stmt).all())
    return [local[tmdb_id] for tmdb_id in tmdb_ids if tmdb_id in local]
