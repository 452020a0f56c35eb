"""The personal library: watchlist, ratings and reviews, and videos to continue watching.

Every function takes the acting user's id from the caller's session, never from the request, so
one person can only ever change their own watchlist and ratings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from aura.errors import Invalid
from aura.extensions import db
from aura.models import Movie, Rating, WatchlistEntry
from aura.services import catalog, cursors, scores, values, visibility
from aura.services.cursors import Page

REVIEW_MAX = 5000
SCORE_MESSAGE = "Choose a score from 1 to 10."


@dataclass(frozen=True)
class WatchSort:
    name: str
    label: str
    key: Any  # SQL expression the list is ordered by, with WatchlistEntry.id as the tie-break
    descending: bool
    kind: str  # how the key travels in a cursor (see aura.services.cursors)


# Films without a date sort after every dated one when newest come first.
_NO_DATE = date(1, 1, 1)
WATCH_SORTS: dict[str, WatchSort] = {
    sort.name: sort
    for sort in (
        WatchSort("added", "Recently added", WatchlistEntry.added_at, True, "datetime"),
        WatchSort("title", "Title", sa.func.lower(Movie.title), False, "text"),
        WatchSort(
            "release",
            "Release date",
            sa.func.coalesce(Movie.release_date, sa.literal(_NO_DATE, sa.Date)),
            True,
            "date",
        ),
    )
}


# -- watchlist ------------------------------------------------------------------------------------


def _film(movie_id: int, include_hidden: bool) -> Movie:
    """The film to act on; a hidden one is simply not there for viewers."""
    return catalog.get_movie(movie_id, include_hidden=include_hidden)


def set_watchlist(
    user_id: int, movie_id: int, on: bool | None = None, include_hidden: bool = False
) -> tuple[Movie, bool]:
    """Put a film on or off the user's watchlist (``on=None`` toggles). Returns the film and
    whether it is on now. Saying the wanted state makes a repeated click or a resubmitted form
    harmless. Commits."""
    movie = _film(movie_id, include_hidden)
    entry = db.session.scalar(
        sa.select(WatchlistEntry).where(
            WatchlistEntry.user_id == user_id, WatchlistEntry.movie_id == movie.id
        )
    )
    wanted = (entry is None) if on is None else on
    if wanted and entry is None:
        db.session.add(WatchlistEntry(user_id=user_id, movie_id=movie.id))
        try:
            db.session.commit()
        except IntegrityError:  # the same click arrived twice at once: it is on the list
            db.session.rollback()
        return movie, True
    if not wanted and entry is not None:
        db.session.delete(entry)
        db.session.commit()
    return movie, wanted


def watchlist_marks(user_id: int, movie_ids: Sequence[int]) -> frozenset[int]:
    """Which of ``movie_ids`` are on the user's watchlist, to mark the cards of one page."""
    if not movie_ids:
        return frozenset()
    return frozenset(
        db.session.scalars(
            sa.select(WatchlistEntry.movie_id).where(
                WatchlistEntry.user_id == user_id, WatchlistEntry.movie_id.in_(set(movie_ids))
            )
        )
    )


def get_watch_sort(name: str | None) -> WatchSort:
    try:
        return WATCH_SORTS[name or "added"]
    except KeyError:
        raise Invalid("The watchlist can be sorted by date added, title or release date.") from None


def watchlist_page(
    user_id: int,
    sort: str | None = None,
    after: str | None = None,
    limit: int = 24,
    include_hidden: bool = False,
) -> Page:
    """One page of the user's watchlist films, in the chosen order."""
    spec = get_watch_sort(sort)
    stmt = (
        sa.select(Movie)
        .join(WatchlistEntry, WatchlistEntry.movie_id == Movie.id)
        .where(WatchlistEntry.user_id == user_id, visibility.films(include_hidden))
    )
    return cursors.paginate(
        stmt, spec.key, WatchlistEntry.id, spec.kind, spec.descending, after, limit
    )


# -- ratings and reviews --------------------------------------------------------------------------


def clean_review(text: str | None) -> str | None:
    """Trimmed review text with line breaks kept and control characters removed; None if empty."""
    if text is None:
        return None
    cleaned = values.paragraphs(text)
    if len(cleaned) > REVIEW_MAX:
        raise Invalid.field("review", f"A review can be at most {REVIEW_MAX:,} characters long.")
    return cleaned or None


def parse_score(raw: str | int | None) -> int:
    """A score of 1 to 10 in ASCII digits (the stars send exactly that)."""
    return values.whole_number(raw, low=1, high=10, message=SCORE_MESSAGE, field="score")


def rate(
    user_id: int,
    movie_id: int,
    score: str | int | None,
    review: str | None = None,
    include_hidden: bool = False,
) -> Rating:
    """Set the user's score (1-10) and review of a film, creating or replacing their rating, and
    update the film's Aura average in the same transaction. Commits."""
    movie = _film(movie_id, include_hidden)
    value = parse_score(score)
    text = clean_review(review)
    for attempt in range(2):
        rating = my_rating(user_id, movie.id)
        if rating is None:
            rating = Rating(user_id=user_id, movie_id=movie.id, score=value, review=text)
            db.session.add(rating)
        else:
            rating.score = value
            rating.review = text
        try:
            db.session.flush()
        except IntegrityError:  # a simultaneous first rating won the insert: update it instead
            db.session.rollback()
            if attempt:
                raise
            continue
        scores.rating_changed(movie.id)
        db.session.commit()
        return rating
    raise AssertionError("unreachable")


def unrate(user_id: int, movie_id: int, include_hidden: bool = False) -> Movie:
    """Remove the user's rating and review of a film, if any; returns the film. Commits."""
    movie = _film(movie_id, include_hidden)
    db.session.execute(
        sa.delete(Rating).where(Rating.user_id == user_id, Rating.movie_id == movie.id)
    )
    scores.rating_changed(movie.id)
    db.session.commit()
    return movie


def my_rating(user_id: int, movie_id: int) -> Rating | None:
    return db.session.scalar(
        sa.select(Rating).where(Rating.user_id == user_id, Rating.movie_id == movie_id)
    )


def reviews_page(
    movie_id: int,
    after: str | None = None,
    limit: int = 10,
    exclude_user_id: int | None = None,
    include_hidden: bool = False,
) -> Page:
    """Reviews of a film others can read, newest first: never a hidden review, and none of
    a hidden film unless the audience sees hidden films."""
    stmt = (
        sa.select(Rating)
        .options(selectinload(Rating.user))
        .where(Rating.movie_id == movie_id, visibility.reviews(include_hidden))
    )
    if exclude_user_id is not None:
        stmt = stmt.where(Rating.user_id != exclude_user_id)
    return cursors.paginate(stmt, Rating.created_at, Rating.id, "datetime", True, after, limit)


def ratings_page(
    user_id: int, after: str | None = None, limit: int = 20, include_hidden: bool = False
) -> Page:
    """The user's own ratings and reviews, most recently changed first."""
    stmt = (
        sa.select(Rating)
        .join(Movie, Movie.id == Rating.movie_id)
        .options(selectinload(Rating.movie))
        .where(Rating.user_id == user_id, visibility.films(include_hidden))
    )
    return cursors.paginate(stmt, Rating.updated_at, Rating.id, "datetime", True, after, limit)
