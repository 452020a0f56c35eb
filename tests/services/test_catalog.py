from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from aura.errors import NotFound
from aura.models import ListEntry, Movie
from aura.services import catalog
from tests.factories import make_genre, make_movie


def walk(name, limit=7, **kw):
    """Every page of a row, following cursors; returns the ids in the order shown."""
    seen, after = [], None
    while True:
        page = catalog.row_page(name, after=after, limit=limit, **kw)
        seen.extend(movie.id for movie in page.items)
        if page.next_cursor is None:
            return seen
        after = page.next_cursor


def test_keyset_pages_cover_every_film_once_across_ties(db):
    # Many films share a score: the id breaks ties so no page repeats or skips one.
    movies = [make_movie(popular_score=float(n % 3)) for n in range(40)]
    shown = walk("popular")
    assert len(shown) == len(set(shown)) == 40
    expected = sorted(movies, key=lambda m: (m.popular_score, m.id), reverse=True)
    assert shown == [movie.id for movie in expected]


def test_deletions_between_pages_neither_repeat_nor_skip_the_rest(db):
    movies = [make_movie(popular_score=100 - n) for n in range(20)]
    first = catalog.row_page("popular", limit=5)
    assert [m.id for m in first.items] == [m.id for m in movies[:5]]
    # One already shown and one not yet shown disappear before the next page is asked for.
    db.session.execute(sa.delete(Movie).where(Movie.id.in_([movies[2].id, movies[7].id])))
    db.session.commit()
    rest, after = [], first.next_cursor
    while after:
        page = catalog.row_page("popular", after=after, limit=5)
        rest.extend(m.id for m in page.items)
        after = page.next_cursor
    assert rest == [m.id for m in movies[5:] if m.id != movies[7].id]


def test_films_inserted_after_the_cursor_position_appear_later(db):
    movies = [make_movie(popular_score=100 - n) for n in range(10)]
    first = catalog.row_page("popular", limit=5)
    late = make_movie("Latecomer", popular_score=92.5)  # sorts between items 7 and 8
    second = catalog.row_page("popular", after=first.next_cursor, limit=5)
    assert late.id in [m.id for m in second.items]
    assert movies[0].id not in [m.id for m in second.items]


def test_hidden_films_never_reach_viewers_but_supervisors_see_them(db):
    shown = make_movie("Shown", popular_score=2)
    hidden = make_movie("Hidden", popular_score=3, hidden=True)
    assert walk("popular") == [shown.id]
    assert walk("popular", include_hidden=True) == [hidden.id, shown.id]
    with pytest.raises(NotFound):
        catalog.get_movie(hidden.id)
    assert catalog.get_movie(hidden.id, include_hidden=True).title == "Hidden"


def test_upcoming_holds_only_future_dates_soonest_first_and_hides_when_empty(db):
    today = datetime.now(UTC).date()
    make_movie("Past", release_date=date(1999, 1, 1))
    later = make_movie("Later", release_date=today + timedelta(days=60))
    sooner = make_movie("Sooner", release_date=today + timedelta(days=3))
    make_movie("Undated", release_date=None)
    assert walk("upcoming") == [sooner.id, later.id]

    db.session.execute(
        sa.update(Movie)
        .where(Movie.id.in_([sooner.id, later.id]))
        .values(release_date=date(2001, 1, 1))
    )
    db.session.commit()
    assert "upcoming" not in [spec.name for spec, _ in catalog.home_rows()]


def test_each_row_follows_its_own_score(db):
    a = make_movie(trending_score=1, popular_score=3, top_rated_score=2)
    b = make_movie(trending_score=3, popular_score=2, top_rated_score=1)
    c = make_movie(trending_score=2, popular_score=1, top_rated_score=3)
    assert walk("trending") == [b.id, c.id, a.id]
    assert walk("popular") == [a.id, b.id, c.id]
    assert walk("top_rated") == [c.id, a.id, b.id]


def test_a_tmdb_list_order_wins_over_local_scores(db):
    a, b, c = (make_movie(popular_score=s) for s in (3, 2, 1))
    for rank, movie in enumerate((c, a, b), start=1):
        db.session.add(ListEntry(list_name="popular", rank=rank, movie_id=movie.id))
    db.session.commit()
    assert walk("popular", limit=2) == [c.id, a.id, b.id]


def test_genre_pages_walk_only_that_genre(db):
    drama, comedy = make_genre("Drama"), make_genre("Comedy")
    dramas = [make_movie(genres=[drama], popular_score=10 - n) for n in range(5)]
    make_movie(genres=[comedy])
    genre, page = catalog.genre_page("drama", limit=3)
    assert genre.name == "Drama"
    _, rest = catalog.genre_page("drama", after=page.next_cursor, limit=3)
    assert [m.id for m in page.items + rest.items] == [m.id for m in dramas]
    assert rest.next_cursor is None
    with pytest.raises(NotFound):
        catalog.genre_page("no-such-genre")


def test_an_unknown_row_is_not_found(db):
    with pytest.raises(NotFound):
        catalog.row_page("best_ever")
