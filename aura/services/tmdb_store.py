"""Writing what TMDB says into the catalog: genres, films and list orders. Never commits.

Films are matched on ``tmdb_id``; failing that, a demo film (no tmdb_id yet) with the same
identity — case-folded title, or original title, and release year — becomes the TMDB film
instead of a duplicate. What TMDB leaves empty never erases what Aura already knows, and the
moderation fields (hidden, hidden_by, hidden_at, hidden_reason) are never written here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from aura.clients import tmdb_types as t
from aura.extensions import db
from aura.models import Genre, ListEntry, Movie, movie_genre, utcnow
from aura.services import catalog, scores
from aura.services.demo import slugify


@dataclass
class Stored:
    movie: Movie
    created: bool  # a new film in the catalog
    changed: bool  # an existing film whose facts changed (a merged demo film counts here)


def upsert_genres(genres: Iterable[t.Genre]) -> dict[int, Genre]:
    """Local genres by TMDB id; an existing genre of the same name or slug gets the TMDB id."""
    local = list(db.session.scalars(sa.select(Genre)))
    by_tmdb = {genre.tmdb_id: genre for genre in local if genre.tmdb_id is not None}
    by_name = {genre.name.casefold(): genre for genre in local}
    by_slug = {genre.slug: genre for genre in local}
    for remote in genres:
        if remote.id in by_tmdb:
            continue
        slug = slugify(remote.name) or f"genre-{remote.id}"
        genre = by_name.get(remote.name.casefold()) or by_slug.get(slug)
        if genre is not None and genre.tmdb_id is None:
            genre.tmdb_id = remote.id
        elif genre is None:
            genre = Genre(tmdb_id=remote.id, name=remote.name, slug=slug)
            db.session.add(genre)
            by_name[remote.name.casefold()], by_slug[slug] = genre, genre
        else:
            continue  # the name is taken by a genre TMDB numbers differently: leave both
        by_tmdb[remote.id] = genre
    db.session.flush()
    return by_tmdb


def known_genres() -> dict[int, Genre]:
    return {
        genre.tmdb_id: genre
        for genre in db.session.scalars(sa.select(Genre).where(Genre.tmdb_id.is_not(None)))
    }


def _year_range(day: date) -> tuple[date, date]:
    return date(day.year, 1, 1), date(day.year, 12, 31)


def find_demo_match(summary: t.MovieSummary) -> Movie | None:
    """The demo film this TMDB film is, by case-folded title or original title and year."""
    if summary.release_date is None:
        return None
    first, last = _year_range(summary.release_date)
    names = {name.casefold() for name in (summary.title, summary.original_title) if name}
    candidates = db.session.scalars(
        sa.select(Movie)
        .where(Movie.source == "demo", Movie.tmdb_id.is_(None))
        .where(Movie.release_date.between(first, last))
        .order_by(Movie.id)
    )
    for movie in candidates:
        if {n.casefold() for n in (movie.title, movie.original_title) if n} & names:
            return movie
    return None


def _summary_values(summary: t.MovieSummary) -> dict[str, Any]:
    return {
        "title": summary.title,
        "original_title": summary.original_title,
        "overview": summary.overview,
        "release_date": summary.release_date,
        "poster_path": summary.poster_path,
        "backdrop_path": summary.backdrop_path,
        "popularity": summary.popularity,
        "vote_average": summary.vote_average,
        "vote_count": summary.vote_count,
    }


def _assign(movie: Movie, values: dict[str, Any]) -> bool:
    """Set what differs; None never erases a known value. True when anything changed."""
    changed = False
    for name, value in values.items():
        if value is None or getattr(movie, name) == value:
            continue
        setattr(movie, name, value)
        changed = True
    return changed


def store_summary(
    summary: t.MovieSummary, genres: dict[int, Genre], update_existing: bool = True
) -> Stored:
    """The catalog film for a list or search item: found, merged into a demo film, or added.

    ``update_existing=False`` leaves a film Aura has as it is (the full sync fetches its
    details next; lists disagree with each other and with details on e.g. popularity, and
    writing each in turn would touch every film on every run).
    """
    movie = db.session.scalar(sa.select(Movie).where(Movie.tmdb_id == summary.id))
    if movie is not None:
        if not update_existing:
            return Stored(movie, created=False, changed=False)
        return Stored(movie, created=False, changed=_assign(movie, _summary_values(summary)))
    movie = find_demo_match(summary)
    if movie is not None:
        movie.tmdb_id, movie.source = summary.id, "tmdb"
        _assign(movie, _summary_values(summary))
        db.session.flush()
        return Stored(movie, created=False, changed=True)
    values = {k: v for k, v in _summary_values(summary).items() if v is not None}
    movie = Movie(tmdb_id=summary.id, source="tmdb", **values)
    # Scores a new film can have at once; the next recompute adds trending and views.
    movie.popular_score = summary.popularity
    db.session.add(movie)
    db.session.flush()
    set_genres(movie, [genres[gid] for gid in summary.genre_ids if gid in genres])
    return Stored(movie, created=True, changed=False)


def apply_details(
    movie: Movie, details: t.MovieDetails, region: str, genres: dict[int, Genre] | None = None
) -> bool:
    """Copy a film's full TMDB record onto it; True when anything changed. Flushes.

    ``genres`` (local genres by TMDB id) saves a lookup per film; unknown ones are added.
    """
    values = _summary_values(details) | {
        "runtime": details.runtime,
        "tagline": details.tagline,
        "director": ", ".join(details.directors)[:300] or None,
        "certification": details.certification(region),
        "budget": details.budget,
        "revenue": details.revenue,
    }
    changed = _assign(movie, values)
    if details.genres:
        local = genres if genres is not None else {}
        if any(g.id not in local for g in details.genres):
            local.update(upsert_genres(details.genres))
        changed |= set_genres(movie, [local[g.id] for g in details.genres if g.id in local])
    db.session.flush()
    return changed


def set_genres(movie: Movie, genres: list[Genre]) -> bool:
    """Replace a film's genres through the link table (Movie.genres loads only on request)."""
    wanted = {genre.id for genre in genres}
    current = set(
        db.session.scalars(
            sa.select(movie_genre.c.genre_id).where(movie_genre.c.movie_id == movie.id)
        )
    )
    if wanted == current:
        return False
    if current - wanted:
        db.session.execute(
            movie_genre.delete().where(
                movie_genre.c.movie_id == movie.id,
                movie_genre.c.genre_id.in_(current - wanted),
            )
        )
    if wanted - current:
        db.session.execute(
            movie_genre.insert(),
            [{"movie_id": movie.id, "genre_id": gid} for gid in sorted(wanted - current)],
        )
    return True


def replace_list(name: str, movie_ids: list[int], keep_tail: bool = False) -> int:
    """Make ``movie_ids`` the list's order from rank 1; with ``keep_tail`` the older entries
    past them stay after them (a first-page refresh must not cut a longer synced list short).
    """
    now = utcnow()
    ordered = list(dict.fromkeys(movie_ids))
    rows: list[dict[str, Any]] = [
        {"list_name": name, "rank": rank, "movie_id": movie_id, "fetched_at": now}
        for rank, movie_id in enumerate(ordered, start=1)
    ]
    if keep_tail:
        fresh = set(ordered)
        old: list[tuple[int, datetime]] = list(
            db.session.execute(
                sa.select(ListEntry.movie_id, ListEntry.fetched_at)
                .where(ListEntry.list_name == name, ListEntry.rank > len(ordered))
                .order_by(ListEntry.rank)
            ).all()
        )
        for movie_id, fetched_at in old:
            if movie_id not in fresh:
                fresh.add(movie_id)
                rows.append(
                    {
                        "list_name": name,
                        "rank": len(rows) + 1,
                        "movie_id": movie_id,
                        "fetched_at": fetched_at,
                    }
                )
    db.session.execute(sa.delete(ListEntry).where(ListEntry.list_name == name))
    if rows:
        db.session.execute(sa.insert(ListEntry), rows)
    catalog.forget_list(name)
    catalog.bump_version()
    return len(ordered)


def list_fetched_at(name: str) -> datetime | None:
    """When the list was last written (its newest entry), or None if it has none."""
    return db.session.scalar(
        sa.select(sa.func.max(ListEntry.fetched_at)).where(ListEntry.list_name == name)
    )


def score_new_films(movies: Iterable[Movie]) -> None:
    """Give films added outside a full sync their top-rated score now. Does not commit."""
    for movie in movies:
        scores.rating_changed(movie.id)
