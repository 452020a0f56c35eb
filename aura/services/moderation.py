"""What supervisors hide and show again: films and reviews, each change audited.

Hiding takes effect at once everywhere viewers look (the one visibility rule reads the same
columns), on every process sharing the database; nothing that shows films to viewers caches
a film's visibility. A hidden film stays hidden through demo loads and TMDB syncs, which
never write these columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from aura.errors import Invalid, NotFound
from aura.extensions import db
from aura.models import Movie, Rating, utcnow
from aura.services import audit, catalog, cursors, values
from aura.services.cursors import Page
from aura.services.search import like_pattern
from aura.services.visitors import Visitor

REASON_MAX = 500
BULK_MAX = 200
STATUSES = ("all", "hidden", "shown")


@dataclass(frozen=True)
class Filters:
    query: str = ""
    status: str = "all"


def clean_filters(query: str | None, status: str | None) -> Filters:
    status = status or "all"
    if status not in STATUSES:
        raise Invalid("Show all, hidden or shown ones.")
    return Filters(values.one_line(query, 200), status)


def _reason(raw: str | None) -> str | None:
    reason = values.one_line(raw)
    if len(reason) > REASON_MAX:
        raise Invalid.field("reason", f"Keep the reason under {REASON_MAX} characters.")
    return reason or None


# -- films -----------------------------------------------------------------------------------


def films_page(filters: Filters, after: str | None, limit: int = 50) -> Page:
    """Every film, newest first, for the moderation table (hidden ones included)."""
    stmt = sa.select(Movie).options(selectinload(Movie.hidden_by))
    if filters.query:
        stmt = stmt.where(Movie.title.ilike(like_pattern(filters.query), escape="\\"))
    if filters.status != "all":
        stmt = stmt.where(Movie.hidden.is_(filters.status == "hidden"))
    return cursors.paginate(stmt, Movie.id, Movie.id, "number", True, after, limit)


def _apply_film(movie: Movie, hidden: bool, reason: str | None, actor: Visitor) -> bool:
    if movie.hidden == hidden and (not hidden or movie.hidden_reason == reason):
        return False
    before = {"hidden": movie.hidden, "reason": movie.hidden_reason}
    movie.hidden = hidden
    movie.hidden_reason = reason if hidden else None
    movie.hidden_by_id = actor.user_id if hidden else None
    movie.hidden_at = utcnow() if hidden else None
    catalog.bump_version()  # every process renders the rows again, without it or with it
    audit.record(
        "film.hide" if hidden else "film.unhide",
        actor_id=actor.user_id,
        target=f"film:{movie.id}",
        detail={"title": movie.title, "from": before, "to": {"hidden": hidden, "reason": reason}},
        client_ip=actor.client_ip,
    )
    return True


def set_film_hidden(movie_id: int, hidden: bool, reason: str | None, actor: Visitor) -> Movie:
    """Hide a film from viewers (with an optional reason) or show it again. Commits."""
    movie = db.session.get(Movie, movie_id) if values.is_id(movie_id) else None
    if movie is None:
        raise NotFound("There is no such film.")
    _apply_film(movie, hidden, _reason(reason), actor)
    db.session.commit()
    return movie


def set_films_hidden(
    movie_ids: Sequence[int], hidden: bool, reason: str | None, actor: Visitor
) -> int:
    """Hide or show several films at once; returns how many changed. Commits."""
    ids = sorted({movie_id for movie_id in movie_ids if values.is_id(movie_id)})
    if not ids:
        raise Invalid("Select at least one film.")
    if len(ids) > BULK_MAX:
        raise Invalid(f"Select at most {BULK_MAX} films at once.")
    reason = _reason(reason)
    movies = db.session.scalars(sa.select(Movie).where(Movie.id.in_(ids))).all()
    changed = sum(_apply_film(movie, hidden, reason, actor) for movie in movies)
    db.session.commit()
    return changed


def hidden_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Movie.hidden.is_(True))) or 0


# -- reviews ---------------------------------------------------------------------------------


def reviews_page(filters: Filters, after: str | None, limit: int = 50) -> Page:
    """Written reviews, newest first, with their authors and films."""
    stmt = (
        sa.select(Rating)
        .options(
            selectinload(Rating.user), selectinload(Rating.movie), selectinload(Rating.hidden_by)
        )
        .where(Rating.review.is_not(None))
    )
    if filters.query:
        stmt = stmt.where(Rating.review.ilike(like_pattern(filters.query), escape="\\"))
    if filters.status != "all":
        stmt = stmt.where(Rating.hidden.is_(filters.status == "hidden"))
    return cursors.paginate(stmt, Rating.created_at, Rating.id, "datetime", True, after, limit)


def set_review_hidden(rating_id: int, hidden: bool, reason: str | None, actor: Visitor) -> Rating:
    """Hide a review from other viewers (its author still sees it, marked) or show it again.
    Commits."""
    rating = db.session.get(Rating, rating_id) if values.is_id(rating_id) else None
    if rating is None or rating.review is None:
        raise NotFound("There is no such review.")
    reason = _reason(reason)
    if rating.hidden != hidden or (hidden and rating.hidden_reason != reason):
        before = {"hidden": rating.hidden, "reason": rating.hidden_reason}
        rating.hidden = hidden
        rating.hidden_reason = reason if hidden else None
        rating.hidden_by_id = actor.user_id if hidden else None
        rating.hidden_at = utcnow() if hidden else None
        audit.record(
            "review.hide" if hidden else "review.unhide",
            actor_id=actor.user_id,
            target=f"review:{rating.id}",
            detail={
                "film": rating.movie_id,
                "author": rating.user_id,
                "from": before,
                "to": {"hidden": hidden, "reason": reason},
            },
            client_ip=actor.client_ip,
        )
        db.session.commit()
    return rating
