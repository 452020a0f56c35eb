"""``aura sync-tmdb``: genres, the four lists and every listed film's details, from TMDB.

A full run fetches the genre list, ``--pages`` pages of trending (this week), popular, top
rated and upcoming, then each listed film's details (with credits, certifications and videos)
and, when its check is older than the TTL, its trailer. ``changes=True`` reads /movie/changes
since the last successful run (at most 14 days) and refreshes only films Aura already has.

Work is committed in small batches and every write is an upsert, so a run can be interrupted
and run again. Each run is recorded as a SyncRun (time, outcome, counts, error).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from aura.clients import tmdb as tmdb_client
from aura.clients import tmdb_images
from aura.clients import youtube as youtube_client
from aura.clients.errors import (
    TMDBError,
    TMDBNotConfigured,
    TMDBNotFound,
    TMDBProtocolError,
    TMDBUnavailable,
    YouTubeError,
)
from aura.clients.tmdb import CHANGES_MAX_DAYS, LISTS, TMDBClient
from aura.clients.youtube import YouTubeClient
from aura.extensions import db
from aura.models import Movie, SyncRun, utcnow
from aura.services import scores, tmdb_store, trailers

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
BATCH = 25  # films per commit: an interrupted run loses at most this much work
GIVE_UP_AFTER = 3  # consecutive films TMDB could not answer for: it is down, stop
MAX_ERRORS_KEPT = 20
STALE_RUNNING = timedelta(hours=12)  # a "running" row this old belongs to a dead process


@dataclass
class SyncReport:
    kind: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    genres: int = 0
    lists: dict[str, int] = field(default_factory=dict)
    trailers_checked: int = 0
    trailers_failed: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary_line(self) -> str:
        line = (
            f"TMDB sync ({self.kind}): {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.failed} failed"
        )
        if self.trailers_checked or self.trailers_failed:
            line += f"; trailers: {self.trailers_checked} checked, {self.trailers_failed} failed"
        return line + "."

    def detail(self) -> dict:
        return {
            "genres": self.genres,
            "lists": self.lists,
            "trailers_checked": self.trailers_checked,
            "trailers_failed": self.trailers_failed,
            "errors": self.errors[:MAX_ERRORS_KEPT],
            "notes": self.notes,
        }

    def fail(self, tmdb_id: int, error: Exception) -> None:
        self.failed += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(f"film {tmdb_id}: {getattr(error, 'message', type(error).__name__)}")


@dataclass(frozen=True)
class LastRun:
    """The last sync, for the supervisor's dashboard."""

    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    added: int
    updated: int
    unchanged: int
    failed: int
    message: str | None
    detail: dict


def last_run() -> LastRun | None:
    """The most recent sync run (running, finished or failed), or None if there was none."""
    run = db.session.scalar(
        sa.select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(1)
    )
    if run is None:
        return None
    return LastRun(
        kind=run.kind,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        added=run.added,
        updated=run.updated,
        unchanged=run.unchanged,
        failed=run.failed,
        message=run.message,
        detail=dict(run.detail or {}),
    )


def sync(
    pages: int = 1,
    changes: bool = False,
    trailers_too: bool = True,
    progress: Progress | None = None,
) -> SyncReport:
    """Run one sync and record it. Raises TMDBNotConfigured without a key, and the TMDBError
    that stopped it (a refused key, TMDB down) after recording the run as failed."""
    if not tmdb_client.is_configured():
        raise TMDBNotConfigured
    client = tmdb_client.get_client()
    youtube = youtube_client.get_client() if trailers_too else None
    report = SyncReport(kind="changes" if changes else "full")
    run_id = _start(report.kind)
    say = progress or (lambda stage, done, total: None)
    try:
        if changes:
            _sync_changes(client, youtube, report, say)
        else:
            _sync_full(client, youtube, max(1, min(int(pages), 500)), report, say)
        db.session.commit()
        if report.added or report.updated:
            scores.recompute_all()
    except TMDBError as error:
        _finish(run_id, report, "failed", error.message)
        raise
    except KeyboardInterrupt:
        _finish(run_id, report, "interrupted", "Interrupted; run it again to carry on.")
        raise
    except Exception as error:
        _finish(run_id, report, "failed", f"Aura failed: {type(error).__name__}")
        raise
    _finish(run_id, report, "partial" if report.failed else "ok", None)
    return report


def _start(kind: str) -> int:
    now = utcnow()
    db.session.execute(
        sa.update(SyncRun)
        .where(SyncRun.status == "running", SyncRun.started_at < now - STALE_RUNNING)
        .values(status="interrupted", message="The process running it stopped.")
    )
    run = SyncRun(kind=kind, status="running", started_at=now)
    db.session.add(run)
    db.session.commit()
    return run.id


def _finish(run_id: int, report: SyncReport, status: str, message: str | None) -> None:
    db.session.rollback()  # whatever the failure left half-done is not recorded
    try:
        run = db.session.get(SyncRun, run_id)
        if run is None:
            return
        run.status = status
        run.finished_at = utcnow()
        run.added, run.updated = report.added, report.updated
        run.unchanged, run.failed = report.unchanged, report.failed
        run.message = message[:500] if message else None
        run.detail = report.detail()
        db.session.commit()
    except SQLAlchemyError:
        # The database itself may be what failed; the caller's error is the one to report.
        log.exception("could not record the end of sync run %s", run_id)
        db.session.rollback()


def _sync_full(
    client: TMDBClient,
    youtube: YouTubeClient | None,
    pages: int,
    report: SyncReport,
    say: Progress,
) -> None:
    try:
        tmdb_images.image_config(fetch=True, client=client)
    except TMDBProtocolError as error:
        report.notes.append(f"image configuration refused: {error.message}")
    genres = tmdb_store.upsert_genres(client.genres())
    report.genres = len(genres)
    db.session.commit()

    films: dict[int, str] = {}  # tmdb id -> "created" | "changed" | "same", in list order
    for done, name in enumerate(LISTS, start=1):
        say("Lists", done - 1, len(LISTS))
        movie_ids = []
        first = client.movie_list(name, 1)
        summaries = list(first.results)
        for page in range(2, min(pages, first.total_pages) + 1):
            summaries += client.movie_list(name, page).results
        for summary in summaries:
            stored = tmdb_store.store_summary(summary, genres, update_existing=False)
            movie_ids.append(stored.movie.id)
            films.setdefault(summary.id, _state(stored))
        report.lists[name] = tmdb_store.replace_list(name, movie_ids)
        db.session.commit()  # one list at a time, whole or not at all
    say("Lists", len(LISTS), len(LISTS))
    _refresh_details(client, youtube, films, report, say)


def _state(stored: tmdb_store.Stored) -> str:
    return "created" if stored.created else "changed" if stored.changed else "same"


def _sync_changes(
    client: TMDBClient, youtube: YouTubeClient | None, report: SyncReport, say: Progress
) -> None:
    today = datetime.now(UTC).date()
    oldest = today - timedelta(days=CHANGES_MAX_DAYS)
    since = _last_success()
    if since is None:
        report.notes.append("No earlier sync: reading the last 14 days of changes.")
        start = oldest
    elif since.date() < oldest:
        report.notes.append(
            "The last sync was more than 14 days ago: only the last 14 days of changes were "
            "read; run a full sync to catch up."
        )
        start = oldest
    else:
        start = since.date()
    changed: list[int] = []
    page, total = 1, 1
    while page <= total:
        say("Changes", page - 1, total)
        found = client.changes(start, today, page)
        changed += found.ids
        total = found.total_pages
        page += 1
    say("Changes", total, total)
    ours: dict[int, str] = {}
    wanted = list(dict.fromkeys(changed))
    for chunk in range(0, len(wanted), 500):
        ours.update(
            (tmdb_id, "same")
            for tmdb_id in db.session.scalars(
                sa.select(Movie.tmdb_id).where(Movie.tmdb_id.in_(wanted[chunk : chunk + 500]))
            )
        )
    _refresh_details(client, youtube, ours, report, say)


def _last_success() -> datetime | None:
    return db.session.scalar(
        sa.select(sa.func.max(SyncRun.started_at)).where(SyncRun.status.in_(("ok", "partial")))
    )


def _refresh_details(
    client: TMDBClient,
    youtube: YouTubeClient | None,
    films: dict[int, str],
    report: SyncReport,
    say: Progress,
) -> None:
    """Each film's details (and, when due, its trailer); counts every film exactly once."""
    region = current_app.config.get("TMDB_REGION", "US")
    genres = tmdb_store.known_genres()
    in_a_row = 0
    youtube_down = 0
    total = len(films)
    for done, (tmdb_id, state) in enumerate(films.items(), start=1):
        movie = db.session.scalar(sa.select(Movie).where(Movie.tmdb_id == tmdb_id))
        if movie is None:  # deleted here while the sync ran
            continue
        try:
            details = client.movie(tmdb_id)
        except (TMDBUnavailable, TMDBNotFound) as error:
            report.fail(tmdb_id, error)
            in_a_row = in_a_row + 1 if isinstance(error, TMDBUnavailable) else 0
            if in_a_row >= GIVE_UP_AFTER:
                raise
            continue
        in_a_row = 0
        changed = tmdb_store.apply_details(movie, details, region, genres)
        if state == "created":
            report.added += 1
        elif changed or state == "changed":
            report.updated += 1
        else:
            report.unchanged += 1
        if youtube is not None and youtube_down < GIVE_UP_AFTER and not trailers.is_fresh(movie):
            try:
                trailers.refresh_trailer(movie, list(details.videos), youtube)
                report.trailers_checked += 1
                youtube_down = 0
            except (YouTubeError, TMDBError) as error:
                report.trailers_failed += 1
                youtube_down += 1
                log.warning("trailer of film %s: %s", tmdb_id, error.message)
                if youtube_down == GIVE_UP_AFTER:
                    report.notes.append("YouTube is not answering: trailers left as they were.")
        if done % BATCH == 0:
            db.session.commit()
        say("Films", done, total)
    db.session.commit()
