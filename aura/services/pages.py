"""Every page a viewer opens, composed in one call: a frozen dataclass with all the page shows.

A view parses its input, calls one function here and renders the result; templates include
their partials plainly and run no queries. What belongs to the visitor (watchlist marks, their
rating, their place in a video) is part of the page, fetched for the films on it only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from flask import current_app

from aura.clients import tmdb as tmdb_client
from aura.errors import Invalid
from aura.models import Caption, Genre, Movie, Rating, Video
from aura.services import (
    analytics,
    captions,
    catalog,
    grants,
    library,
    playback,
    search,
    tmdb_refresh,
    trailers,
    values,
    videos,
)
from aura.services.cursors import Page
from aura.services.library import DiaryPage
from aura.services.playback import ContinueItem
from aura.services.search import SearchResult
from aura.services.visitors import Visitor

HOME_VIDEO_LIMIT = 12
# How long a page may wait on TMDB: a row refreshes in the background, a search and a trailer
# check within these budgets; past them the page shows what the database has, and says so.
SEARCH_BUDGET_SECONDS = 2.0
TRAILER_BUDGET_SECONDS = 1.5


def _marks(visitor: Visitor, movies: Sequence[Movie]) -> frozenset[int]:
    """Which of these films are on the visitor's watchlist."""
    if visitor.user_id is None or not movies:
        return frozenset()
    return library.watchlist_marks(visitor.user_id, [movie.id for movie in movies])


def _refresh_rows(names: Sequence[str]) -> str | None:
    """Rows TMDB orders are refreshed in the background once stale (stale-while-revalidate):
    the page renders from the database now. A notice when TMDB could not be asked."""
    notices = [tmdb_refresh.refresh_list_if_stale(name).notice for name in names]
    return next((notice for notice in notices if notice), None)


def _continue_watching(visitor: Visitor) -> list[ContinueItem]:
    if visitor.user_id is None:
        return []
    return playback.continue_watching(visitor.user_id, include_hidden=visitor.sees_hidden)


@dataclass(frozen=True)
class HomePage:
    """Everything on the home page around its rows. The rows themselves are rendered once for
    everyone and kept under the catalog version (aura/blueprints/catalog/shelves.py)."""

    genres: list[Genre]
    continue_watching: list[ContinueItem]
    new_videos: Sequence[Video]  # the newest few, for the "New videos" row (empty: no row)
    notice: str | None = None  # TMDB could not be asked: the rows are the saved ones


def rows_notice() -> str | None:
    """Refresh the rows TMDB orders when they are stale (behind the page); a notice when TMDB
    could not be asked."""
    return _refresh_rows(list(catalog.ROWS))


def home(visitor: Visitor) -> HomePage:
    return HomePage(
        genres=catalog.all_genres(),
        continue_watching=_continue_watching(visitor),
        new_videos=videos.newest_videos(HOME_VIDEO_LIMIT, include_hidden=visitor.sees_hidden),
        notice=rows_notice(),
    )


@dataclass(frozen=True)
class BrowsePage:
    """A row or a genre: a heading, one page of cards and the cursor to the next.

    ``number`` is the page's place when followed by "Next page" links (without JavaScript);
    a page reloaded with ``until`` starts from the first card, so it is page 1.
    """

    heading: str
    blurb: str
    page: Page
    watchlisted: frozenset[int]
    number: int = 1
    notice: str | None = None


MAX_PAGE_NUMBER = 100_000


def page_number(raw: str | None) -> int:
    """The ``page=`` of a "Next page" link: only a label, so anything odd is simply page 1."""
    try:
        return values.whole_number(raw, low=1, high=MAX_PAGE_NUMBER, message="")
    except Invalid:
        return 1


def row(
    name: str,
    after: str | None,
    visitor: Visitor,
    *,
    until: str | None = None,
    number: str | None = None,
) -> BrowsePage:
    spec = catalog.get_row(name)
    notice = None if after else _refresh_rows([name])
    page = catalog.row_page(name, after=after, until=until, include_hidden=visitor.sees_hidden)
    shown = 1 if until or not after else page_number(number)
    return BrowsePage(spec.title, spec.blurb, page, _marks(visitor, page.items), shown, notice)


def genre(
    slug: str,
    after: str | None,
    visitor: Visitor,
    *,
    until: str | None = None,
    number: str | None = None,
) -> BrowsePage:
    found, page = catalog.genre_page(
        slug, after=after, until=until, include_hidden=visitor.sees_hidden
    )
    shown = 1 if until or not after else page_number(number)
    return BrowsePage(
        found.name,
        f"{found.name} films, most popular first.",
        page,
        _marks(visitor, page.items),
        shown,
    )


@dataclass(frozen=True)
class SearchPage:
    result: SearchResult
    watchlisted: frozenset[int]
    notice: str | None = None  # TMDB could not be asked: only the films Aura has


def search_films(query: str | None, visitor: Visitor) -> SearchPage:
    """Aura's matches, then (with TMDB) the films TMDB finds that Aura did not, which are
    stored as they arrive; within a time budget, never waiting on a slow TMDB for long."""
    result = search.search_movies(query, include_hidden=visitor.sees_hidden)
    remote = tmdb_refresh.search_remote(
        result.query, budget_seconds=SEARCH_BUDGET_SECONDS, include_hidden=visitor.sees_hidden
    )
    if remote.movie_ids:
        result = search.merged(result, remote.movie_ids, include_hidden=visitor.sees_hidden)
    return SearchPage(result, _marks(visitor, result.movies), remote.notice)


@dataclass(frozen=True)
class VideoLibraryPage:
    """The list of every video the visitor may see, as sorted, filtered and searched."""

    query: str
    sort: str
    show: str
    page: Page

    @property
    def args(self) -> dict[str, str]:
        """The choices that differ from the defaults, for links that keep them."""
        chosen = {"q": self.query, "sort": self.sort, "show": self.show}
        defaults = {"q": "", "sort": videos.DEFAULT_SORT, "show": videos.DEFAULT_SHOW}
        return {name: value for name, value in chosen.items() if value != defaults[name]}


def video_library(
    query: str | None, sort: str | None, show: str | None, after: str | None, visitor: Visitor
) -> VideoLibraryPage:
    """The video library: every video the visitor may see, newest first unless asked."""
    spec, show = videos.library_sort(sort), videos.library_show(show)
    text = videos.library_query(query)
    page = videos.library_page(
        sort=spec.name, show=show, query=text, after=after, include_hidden=visitor.sees_hidden
    )
    return VideoLibraryPage(text, spec.name, show, page)


@dataclass(frozen=True)
class WatchPage:
    video: Video
    movie: Movie | None
    token: str  # this browser's fresh grant for the video, for the view to keep in its session
    resume: float  # seconds to start at
    captions: Sequence[Caption]
    up_next: Video | None  # the next video in the library's default order


def watch(video_id: uuid.UUID, token: str | None, visitor: Visitor, restart: bool) -> WatchPage:
    """The player page. Raises grants.PasswordRequired for a locked video this browser holds
    no grant for (the view shows the password form instead). Commits (the new grant)."""
    video, new_token = grants.open_player(video_id, token, visitor)
    return WatchPage(
        video=video,
        movie=video.movie,
        token=new_token,
        resume=0.0 if restart else playback.resume_position(visitor.user_id, video.id),
        captions=captions.captions_of(video.id),
        up_next=videos.up_next(video, include_hidden=visitor.sees_hidden),
    )


@dataclass(frozen=True)
class FilmPage:
    movie: Movie
    on_watchlist: bool
    my_rating: Rating | None
    reviews: Page  # other people's reviews, newest first
    videos: Sequence[Video]  # what the Play buttons open
    trailer: trailers.TrailerStatus | None = None  # with TMDB: the embeddable trailer, if any
    watched_on: Sequence[date] = ()  # the days the visitor logged this film, newest first
    today: date | None = None  # the latest day the diary form accepts


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
        # Trailers come with TMDB (and the CSP allows YouTube's player only then).
        trailer=trailers.ensure_trailer(movie, budget_seconds=TRAILER_BUDGET_SECONDS)
        if tmdb_client.is_configured()
        else None,
        watched_on=library.days_watched(user_id, movie.id) if user_id else (),
        today=library.latest_day(),
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


_NO_PAGE = Page([], None)


@dataclass(frozen=True)
class LibraryPage:
    show: str  # one of LIBRARY_TABS
    sort: str
    page: Page  # watchlist films or ratings
    continue_watching: list[ContinueItem] = field(default_factory=list)
    watchlisted: frozenset[int] = frozenset()
    my_scores: dict[int, int] = field(default_factory=dict)  # the visitor's score per film
    diary: DiaryPage | None = None
    today: date | None = None


LIBRARY_TABS = ("watchlist", "watching", "ratings", "diary")


def personal_library(
    user_id: int, show: str, sort: str | None, after: str | None, visitor: Visitor
) -> LibraryPage:
    """The visitor's own library: the watchlist, what they are watching, their ratings, or
    their diary."""
    if show not in LIBRARY_TABS:
        raise Invalid("The library shows your watchlist, ratings, diary or what you are watching.")
    include_hidden = visitor.sees_hidden
    if show == "watching":
        return LibraryPage(show, "", _NO_PAGE, continue_watching=_continue_watching(visitor))
    if show == "diary":
        diary = library.diary_page(user_id, after=after, include_hidden=include_hidden)
        return LibraryPage(show, "", _NO_PAGE, diary=diary, today=library.latest_day())
    if show == "ratings":
        spec = library.get_rating_sort(sort)
        page = library.ratings_page(
            user_id, sort=spec.name, after=after, include_hidden=include_hidden
        )
        return LibraryPage(show, spec.name, page)
    spec = library.get_watch_sort(sort)
    page = library.watchlist_page(
        user_id, sort=spec.name, after=after, include_hidden=include_hidden
    )
    films = [movie.id for movie in page.items]
    return LibraryPage(
        show=show,
        sort=spec.name,
        page=page,
        watchlisted=frozenset(films),
        my_scores=library.score_marks(user_id, films),
    )
