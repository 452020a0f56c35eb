"""Every page a viewer opens, composed in one call: a frozen dataclass with all the page shows.

A view parses its input, calls one function here and renders the result; templates include
their partials plainly and run no queries. What belongs to the visitor (watchlist marks, their
rating, their place in a video) is part of the page, fetched for the films on it only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app

from aura.errors import Invalid
from aura.models import Genre, Movie, Rating, Video
from aura.services import analytics, catalog, library, playback, search, videos
from aura.services.catalog import RowSpec
from aura.services.cursors import Page
from aura.services.playback import ContinueItem
from aura.services.search import SearchResult
from aura.services.visitors import Visitor

HOME_ROW_LIMIT = 18


def _marks(visitor: Visitor, movies: Sequence[Movie]) -> frozenset[int]:
    """Which of these films are on the visitor's watchlist."""
    if visitor.user_id is None or not movies:
        return frozenset()
    return library.watchlist_marks(visitor.user_id, [movie.id for movie in movies])


def _continue_watching(visitor: Visitor) -> list[ContinueItem]:
    if visitor.user_id is None:
        return []
    return playback.continue_watching(visitor.user_id, include_hidden=visitor.sees_hidden)


@dataclass(frozen=True)
class HomePage:
    rows: list[tuple[RowSpec, Page]]
    genres: list[Genre]
    continue_watching: list[ContinueItem]
    watchlisted: frozenset[int]


def home(visitor: Visitor) -> HomePage:
    rows = catalog.home_rows(limit=HOME_ROW_LIMIT, include_hidden=visitor.sees_hidden)
    films = [movie for _spec, page in rows for movie in page.items]
    return HomePage(
        rows=rows,
        genres=catalog.all_genres(),
        continue_watching=_continue_watching(visitor),
        watchlisted=_marks(visitor, films),
    )


@dataclass(frozen=True)
class BrowsePage:
    """A row or a genre: a heading, one page of cards and the cursor to the next."""

    heading: str
    blurb: str
    page: Page
    watchlisted: frozenset[int]


def row(name: str, after: str | None, visitor: Visitor) -> BrowsePage:
    spec = catalog.get_row(name)
    page = catalog.row_page(name, after=after, include_hidden=visitor.sees_hidden)
    return BrowsePage(spec.title, spec.blurb, page, _marks(visitor, page.items))


def genre(slug: str, after: str | None, visitor: Visitor) -> BrowsePage:
    found, page = catalog.genre_page(slug, after=after, include_hidden=visitor.sees_hidden)
    return BrowsePage(
        found.name, f"{found.name} films, most popular first.", page, _marks(visitor, page.items)
    )


@dataclass(frozen=True)
class SearchPage:
    result: SearchResult
    watchlisted: frozenset[int]


def search_films(query: str | None, visitor: Visitor) -> SearchPage:
    result = search.search_movies(query, include_hidden=visitor.sees_hidden)
    return SearchPage(result, _marks(visitor, result.movies))


@dataclass(frozen=True)
class FilmPage:
    movie: Movie
    on_watchlist: bool
    my_rating: Rating | None
    reviews: Page  # other people's reviews, newest first
    videos: Sequence[Video]  # what the Play buttons open


def film(movie_id: int, visitor: Visitor, *, count_view: bool = True) -> FilmPage:
    """The film page; opening it counts as a view of the film (``count_view``), unless
    ``AURA_RECORD_VIEWS=off`` says not to record views at all."""
    movie = catalog.get_movie(movie_id, include_hidden=visitor.sees_hidden)
    if count_view and current_app.config["RECORD_VIEWS"]:
        analytics.film_viewed(movie.id, visitor)
    user_id = visitor.user_id
    return FilmPage(
        movie=movie,
        on_watchlist=bool(user_id and _marks(visitor, [movie])),
        my_rating=library.my_rating(user_id, movie.id) if user_id else None,
        reviews=library.reviews_page(
            movie.id, exclude_user_id=user_id, include_hidden=visitor.sees_hidden
        ),
        videos=videos.videos_for_movie(movie.id),
    )


@dataclass(frozen=True)
class ReviewsPage:
    movie: Movie
    reviews: Page


def reviews(movie_id: int, after: str | None, visitor: Visitor) -> ReviewsPage:
    movie = catalog.get_movie(movie_id, include_hidden=visitor.sees_hidden)
    return ReviewsPage(
        movie,
        library.reviews_page(
            movie.id,
            after=after,
            exclude_user_id=visitor.user_id,
            include_hidden=visitor.sees_hidden,
        ),
    )


@dataclass(frozen=True)
class LibraryPage:
    show: str  # "watchlist" or "ratings"
    sort: str
    page: Page
    continue_watching: list[ContinueItem]
    watchlisted: frozenset[int]


LIBRARY_TABS = ("watchlist", "ratings")


def personal_library(
    user_id: int, show: str, sort: str | None, after: str | None, visitor: Visitor
) -> LibraryPage:
    """The visitor's own library: the watchlist (with what they are watching) or ratings."""
    if show not in LIBRARY_TABS:
        raise Invalid("The library shows your watchlist or your ratings.")
    include_hidden = visitor.sees_hidden
    if show == "ratings":
        page = library.ratings_page(user_id, after=after, include_hidden=include_hidden)
        return LibraryPage(show, "updated", page, [], frozenset())
    spec = library.get_watch_sort(sort)
    page = library.watchlist_page(
        user_id, sort=spec.name, after=after, include_hidden=include_hidden
    )
    return LibraryPage(
        show=show,
        sort=spec.name,
        page=page,
        continue_watching=[] if after else _continue_watching(visitor),
        watchlisted=frozenset(movie.id for movie in page.items),
    )
