"""One rule, every listing: a hidden film, its reviews and its videos never reach viewers.

Each listing a viewer can reach is walked for a hidden film that would otherwise be in it;
supervisors still see it. A new listing belongs in LISTINGS.
"""

from __future__ import annotations

from datetime import date

import pytest

from aura.errors import NotFound
from aura.extensions import db as _db
from aura.models import DiaryEntry, PlaybackProgress, Rating, WatchlistEntry
from aura.services import catalog, grants, library, pages, playback, search, videos
from aura.services.visitors import Visitor
from tests.factories import BROWSER_UA, make_genre, make_movie, make_user, store_video


@pytest.fixture
def world(db, media_dir):
    """A viewer whose every listing would show the film "Secret Garden", which is hidden."""
    drama = make_genre("Drama")
    shown = make_movie("Open Garden", genres=[drama], popular_score=1, trending_score=1)
    hidden = make_movie(
        "Secret Garden", genres=[drama], popular_score=9, trending_score=9, hidden=True
    )
    viewer, critic = make_user(), make_user()
    video = store_video(title="Secret reel", movie=hidden)
    store_video(title="Open reel", movie=shown)
    for film in (shown, hidden):
        _db.session.add(WatchlistEntry(user_id=viewer.id, movie_id=film.id))
        _db.session.add(Rating(user_id=viewer.id, movie_id=film.id, score=8, review="Mine"))
        _db.session.add(Rating(user_id=critic.id, movie_id=film.id, score=9, review="Lovely"))
        _db.session.add(
            DiaryEntry(user_id=viewer.id, movie_id=film.id, watched_on=date(2024, 1, 1))
        )
    _db.session.add(
        PlaybackProgress(
            user_id=viewer.id, video_id=video.id, position_seconds=10, duration_seconds=30
        )
    )
    _db.session.commit()
    return {"shown": shown, "hidden": hidden, "viewer": viewer, "video": video}


def titles(movies) -> set[str]:
    return {movie.title for movie in movies}


def _rows(w, sees):
    return titles(m for _spec, page in catalog.home_rows(include_hidden=sees) for m in page.items)


def _row_pages(w, sees):
    found = set()
    for name in catalog.ROWS:
        found |= titles(catalog.row_page(name, include_hidden=sees).items)
    return found


def _genre(w, sees):
    return titles(catalog.genre_page("drama", include_hidden=sees)[1].items)


def _search(w, sees):
    return titles(search.search_movies("garden", include_hidden=sees).movies)


def _watchlist(w, sees):
    return titles(library.watchlist_page(w["viewer"].id, include_hidden=sees).items)


def _continue(w, sees):
    return {
        item.movie.title
        for item in playback.continue_watching(w["viewer"].id, include_hidden=sees)
        if item.movie
    }


def _my_ratings(w, sees):
    return {r.movie.title for r in library.ratings_page(w["viewer"].id, include_hidden=sees).items}


def _diary(w, sees):
    page = library.diary_page(w["viewer"].id, include_hidden=sees)
    return {item.entry.movie.title for month in page.months for item in month.items}


def _reviews_on_film_pages(w, sees):
    visitor = Visitor(user_id=w["viewer"].id, supervisor=sees, user_agent=BROWSER_UA)
    found = set()
    for film in (w["shown"], w["hidden"]):
        try:
            page = pages.film(film.id, visitor, count_view=False)
        except NotFound:
            continue
        if page.reviews.items:
            found.add(film.title)
    return found


def _grants(w, sees):
    visitor = Visitor(browser="b" * 32, supervisor=sees, user_agent=BROWSER_UA)
    try:
        grants.open_player(w["video"].id, None, visitor)
    except NotFound:
        return set()
    return {"Secret Garden"}


def films_of(found_videos) -> set[str]:
    return {video.movie.title for video in found_videos if video.movie}


def _video_library(w, sees):
    found = set()
    for sort in videos.LIBRARY_SORTS:
        found |= films_of(videos.library_page(sort=sort, include_hidden=sees).items)
    return found


def _video_search(w, sees):
    return films_of(videos.library_page(query="reel", include_hidden=sees).items)


def _new_videos(w, sees):
    return films_of(pages.home(Visitor(supervisor=sees)).new_videos)


def _up_next(w, sees):
    """Every video the player's "Up next" links lead through, from the newest."""
    chain = list(videos.library_page(limit=1, include_hidden=sees).items)
    while (following := videos.up_next(chain[-1], include_hidden=sees)) is not None:
        chain.append(following)
    return films_of(chain)


LISTINGS = {
    "home rows": _rows,
    "row pages": _row_pages,
    "genre": _genre,
    "search": _search,
    "watchlist": _watchlist,
    "continue watching": _continue,
    "own ratings": _my_ratings,
    "diary": _diary,
    "reviews": _reviews_on_film_pages,
    "grants": _grants,
    "video library": _video_library,
    "video search": _video_search,
    "new videos": _new_videos,
    "up next": _up_next,
}


@pytest.mark.parametrize("listing", LISTINGS)
def test_a_hidden_film_never_reaches_viewers(world, listing):
    seen_by_viewer = LISTINGS[listing](world, False)
    assert "Secret Garden" not in seen_by_viewer
    assert "Secret Garden" in LISTINGS[listing](world, True)
    if listing not in ("grants", "continue watching"):
        assert "Open Garden" in seen_by_viewer  # the listing itself works


def test_the_film_page_of_a_hidden_film_is_not_there(world):
    with pytest.raises(NotFound):
        pages.film(world["hidden"].id, Visitor(), count_view=False)
    assert pages.film(world["hidden"].id, Visitor(supervisor=True), count_view=False).movie


def test_a_hidden_review_is_left_out_but_its_author_sees_it_marked(world, db):
    review = next(
        r
        for r in db.session.query(Rating).all()
        if r.user_id != world["viewer"].id and r.movie_id == world["shown"].id
    )
    review.hidden = True
    db.session.commit()
    others = library.reviews_page(world["shown"].id, exclude_user_id=world["viewer"].id)
    assert others.items == []
    mine = library.ratings_page(review.user_id).items
    assert [r.hidden for r in mine if r.movie_id == world["shown"].id] == [True]
