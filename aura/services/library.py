"""The personal library: watchlist, ratings and reviews, the diary of films watched.

Every function takes the acting user's id from the caller's session, never from the request, so
one person can only ever change their own watchlist and ratings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from aura.errors import Invalid, NotFound
from aura.extensions import db
from aura.models import DiaryEntry, Movie, Rating, WatchlistEntry, utcnow
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


RATING_SORTS: dict[str, WatchSort] = {
    sort.name: sort
    for sort in (
        WatchSort("date", "Date", Rating.updated_at, True, "datetime"),
        WatchSort("score", "Your score", Rating.score, True, "number"),
        WatchSort("title", "Title", sa.func.lower(Movie.title), False, "text"),
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


# Asked for every page of cards a signed-in viewer sees: built once, a Core statement.
_WATCHLIST = WatchlistEntry.__table__
_MARKS = sa.select(_WATCHLIST.c.movie_id).where(
    _WATCHLIST.c.user_id == sa.bindparam("user_id"),
    _WATCHLIST.c.movie_id.in_(sa.bindparam("movie_ids", expanding=True)),
)


def watchlist_marks(user_id: int, movie_ids: Sequence[int]) -> frozenset[int]:
    """Which of ``movie_ids`` are on the user's watchlist, to mark the cards of one page."""
    if not movie_ids:
        return frozenset()
    found = db.session.execute(_MARKS, {"user_id": user_id, "movie_ids": sorted(set(movie_ids))})
    return frozenset(found.scalars())


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


def get_rating_sort(name: str | None) -> WatchSort:
    try:
        return RATING_SORTS[name or "date"]
    except KeyError:
        raise Invalid("Your ratings can be sorted by date, score or title.") from None


def ratings_page(
    user_id: int,
    sort: str | None = None,
    after: str | None = None,
    limit: int = 20,
    include_hidden: bool = False,
) -> Page:
    """The user's own ratings and reviews: most recently changed first, best first, or by title."""
    spec = get_rating_sort(sort)
    stmt = (
        sa.select(Rating)
        .join(Movie, Movie.id == Rating.movie_id)
        .options(selectinload(Rating.movie))
        .where(Rating.user_id == user_id, visibility.films(include_hidden))
    )
    return cursors.paginate(stmt, spec.key, Rating.id, spec.kind, spec.descending, after, limit)


def score_marks(user_id: int, movie_ids: Sequence[int]) -> dict[int, int]:
    """The user's own score of each of ``movie_ids`` they rated, to show on one page's cards."""
    if not movie_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Rating.movie_id, Rating.score).where(
                Rating.user_id == user_id, Rating.movie_id.in_(set(movie_ids))
            )
        ).all()
    )


# -- the diary ------------------------------------------------------------------------------------

FIRST_FILM_YEAR = 1888  # Roundhay Garden Scene: nobody watched a film before it
DATE_MESSAGE = "Choose the day you watched it: not in the future, and not before 1888."
DIARY_SOURCES = ("playback", "manual")


def latest_day() -> date:
    """The latest day it is anywhere on Earth (UTC+14): a viewer far east of UTC who logs
    tonight's film is not refused for logging "tomorrow"."""
    return (utcnow() + timedelta(hours=14)).date()


def parse_watch_date(raw: object) -> date:
    """A day from a date input (``YYYY-MM-DD``, ASCII digits), from 1888 to today."""
    return values.calendar_date(
        raw,
        low=date(FIRST_FILM_YEAR, 1, 1),
        high=latest_day(),
        message=DATE_MESSAGE,
        field="watched_on",
    )


@dataclass(frozen=True)
class DiaryItem:
    entry: DiaryEntry
    rewatch: bool  # an earlier entry of the same film exists


@dataclass(frozen=True)
class DiaryMonth:
    month: date  # the first day of the month
    items: list[DiaryItem]


@dataclass(frozen=True)
class DiaryPage:
    months: list[DiaryMonth]
    next_cursor: str | None

    @property
    def empty(self) -> bool:
        return not self.months


def log_watch(
    user_id: int,
    movie_id: int,
    watched_on: date,
    source: str = "manual",
    include_hidden: bool = False,
) -> tuple[DiaryEntry, bool]:
    """Log that the user watched a film on a day; once per film and day. Returns the entry
    and whether it is new. Commits."""
    if source not in DIARY_SOURCES:
        raise ValueError(source)
    movie = _film(movie_id, include_hidden)
    where = (
        DiaryEntry.user_id == user_id,
        DiaryEntry.movie_id == movie.id,
        DiaryEntry.watched_on == watched_on,
    )
    found = db.session.scalar(sa.select(DiaryEntry).where(*where))
    if found is not None:
        return found, False
    entry = DiaryEntry(user_id=user_id, movie_id=movie.id, watched_on=watched_on, source=source)
    db.session.add(entry)
    try:
        db.session.commit()
    except IntegrityError:  # the same day was logged at the same moment elsewhere
        db.session.rollback()
        return db.session.scalars(sa.select(DiaryEntry).where(*where)).one(), False
    return entry, True


def days_watched(user_id: int, movie_id: int, limit: int = 5) -> list[date]:
    """The latest days the user logged this film, newest first (the film page shows them)."""
    return list(
        db.session.scalars(
            sa.select(DiaryEntry.watched_on)
            .where(DiaryEntry.user_id == user_id, DiaryEntry.movie_id == movie_id)
            .order_by(DiaryEntry.watched_on.desc())
            .limit(limit)
        )
    )


def remove_diary_entry(user_id: int, entry_id: int) -> Movie:
    """Remove one of the user's own diary entries (another user's is not there); returns its
    film. Commits."""
    entry = db.session.get(DiaryEntry, entry_id) if values.is_id(entry_id) else None
    if entry is None or entry.user_id != user_id:
        raise NotFound("That diary entry is not there any more.")
    movie = entry.movie
    db.session.delete(entry)
    db.session.commit()
    return movie


def diary_page(
    user_id: int, after: str | None = None, limit: int = 50, include_hidden: bool = False
) -> DiaryPage:
    """The user's diary, newest day first, grouped by month, with rewatches marked."""
    stmt = (
        sa.select(DiaryEntry)
        .join(Movie, Movie.id == DiaryEntry.movie_id)
        .options(selectinload(DiaryEntry.movie))
        .where(DiaryEntry.user_id == user_id, visibility.films(include_hidden))
    )
    page = cursors.paginate(stmt, DiaryEntry.watched_on, DiaryEntry.id, "date", True, after, limit)
    entries: Sequence[DiaryEntry] = page.items
    firsts = {}
    if entries:
        # The first entry of each film on the page, over the whole diary: every later one is a
        # rewatch.
        ranked = (
            sa.select(
                DiaryEntry.movie_id,
                DiaryEntry.id,
                sa.func.row_number()
                .over(
                    partition_by=DiaryEntry.movie_id,
                    order_by=(DiaryEntry.watched_on, DiaryEntry.id),
                )
                .label("n"),
            )
            .where(
                DiaryEntry.user_id == user_id,
                DiaryEntry.movie_id.in_({entry.movie_id for entry in entries}),
            )
            .subquery()
        )
        firsts = dict(
            db.session.execute(
                sa.select(ranked.c.movie_id, ranked.c.id).where(ranked.c.n == 1)
            ).all()
        )
    months: list[DiaryMonth] = []
    for entry in entries:
        month = entry.watched_on.replace(day=1)
        if not months or months[-1].month != month:
            months.append(DiaryMonth(month, []))
        months[-1].items.append(DiaryItem(entry, rewatch=firsts.get(entry.movie_id) != entry.id))
    return DiaryPage(months, page.next_cursor)
