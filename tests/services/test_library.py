"""Library service: watchlist, ratings and reviews, continue watching."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from aura.errors import Invalid, NotFound
from aura.models import Movie, PlaybackProgress, Rating, WatchlistEntry, utcnow
from aura.services import library, playback
from tests.factories import make_movie, make_user, watchlist_of
from tests.factories import make_video_row as make_video


def watchlist_titles(user_id, sort, limit=2, **kw):
    """Walk every page of a watchlist, as infinite scroll does."""
    titles, cursor = [], None
    while True:
        page = library.watchlist_page(user_id, sort=sort, after=cursor, limit=limit, **kw)
        titles += [movie.title for movie in page.items]
        if page.next_cursor is None:
            return titles
        cursor = page.next_cursor


# -- watchlist ------------------------------------------------------------------------------------


def test_toggle_and_set_watchlist(db):
    user, film = make_user(), make_movie()
    assert library.set_watchlist(user.id, film.id)[1] is True
    assert watchlist_of(user.id) == {film.id}
    # A repeated "add" is harmless.
    assert library.set_watchlist(user.id, film.id, on=True)[1] is True
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WatchlistEntry)) == 1
    assert library.set_watchlist(user.id, film.id)[1] is False
    assert library.set_watchlist(user.id, film.id, on=False)[1] is False
    assert watchlist_of(user.id) == frozenset()


def test_hidden_or_missing_films_cannot_be_added(db):
    user, hidden = make_user(), make_movie(hidden=True)
    with pytest.raises(NotFound):
        library.set_watchlist(user.id, hidden.id)
    with pytest.raises(NotFound):
        library.set_watchlist(user.id, 999_999)
    assert library.set_watchlist(user.id, hidden.id, include_hidden=True)[1] is True


def test_watchlists_are_per_user(db):
    ann, bob, film = make_user(), make_user(), make_movie()
    library.set_watchlist(ann.id, film.id)
    assert watchlist_of(bob.id) == frozenset()
    library.set_watchlist(bob.id, film.id, on=False)
    assert watchlist_of(ann.id) == {film.id}


def test_watchlist_sorts_and_pages_through_every_film(db):
    user = make_user()
    films = [
        make_movie("banana", release_date=date(1999, 1, 1)),
        make_movie("Apple", release_date=None),
        make_movie("cherry", release_date=date(2010, 5, 5)),
        make_movie("Date", release_date=date(1980, 2, 2)),
        make_movie("Elder", release_date=date(2010, 5, 5)),
    ]
    start = utcnow() - timedelta(days=1)
    for number, film in enumerate(films):
        db.session.add(
            WatchlistEntry(
                user_id=user.id, movie_id=film.id, added_at=start + timedelta(hours=number)
            )
        )
    db.session.commit()
    assert watchlist_titles(user.id, "added") == ["Elder", "Date", "cherry", "Apple", "banana"]
    assert watchlist_titles(user.id, "title") == ["Apple", "banana", "cherry", "Date", "Elder"]
    # Newest release first; films without a date last.
    release = watchlist_titles(user.id, "release")
    assert release[2:] == ["banana", "Date", "Apple"]
    assert set(release[:2]) == {"cherry", "Elder"}


def test_hidden_films_never_show_in_a_viewers_watchlist(db):
    user = make_user()
    seen, hidden = make_movie("Seen"), make_movie("Gone")
    library.set_watchlist(user.id, seen.id)
    library.set_watchlist(user.id, hidden.id)
    db.session.get(Movie, hidden.id).hidden = True
    db.session.commit()
    assert watchlist_titles(user.id, "added") == ["Seen"]
    assert library.watchlist_page(user.id).next_cursor is None


@pytest.mark.parametrize("cursor", ["garbage", "x" * 500, "WyJ0ZXh0IiwiYSIsMV0"])
def test_broken_watchlist_cursors_are_refused(db, cursor):
    user = make_user()
    with pytest.raises(Invalid):
        library.watchlist_page(user.id, sort="added", after=cursor)


def test_unknown_sort_is_refused(db):
    with pytest.raises(Invalid, match="sorted by"):
        library.watchlist_page(make_user().id, sort="price")


# -- ratings --------------------------------------------------------------------------------------


def test_rating_creates_updates_and_keeps_the_film_average_right(db):
    ann, bob = make_user(), make_user()
    film = make_movie(vote_average=7.0, vote_count=10)
    library.rate(ann.id, film.id, "8", "  Loved it.\r\nReally.  ")
    library.rate(bob.id, film.id, 5)
    movie = db.session.get(Movie, film.id)
    assert (movie.rating_count, movie.rating_sum) == (2, 13)
    score_before = movie.top_rated_score
    rating = library.rate(ann.id, film.id, 10, "")
    assert rating.review is None and rating.score == 10
    db.session.refresh(movie)
    assert (movie.rating_count, movie.rating_sum) == (2, 15)
    assert movie.top_rated_score > score_before
    library.unrate(ann.id, film.id)
    db.session.refresh(movie)
    assert (movie.rating_count, movie.rating_sum) == (1, 5)
    assert library.my_rating(ann.id, film.id) is None
    assert library.my_rating(bob.id, film.id).score == 5  # Ann's removal left Bob's alone


def test_review_text_is_cleaned(db):
    user, film = make_user(), make_movie()
    rating = library.rate(user.id, film.id, 7, "Line one\r\nline two\x00\x07 <b>kept as text</b>")
    assert rating.review == "Line one\nline two <b>kept as text</b>"


@pytest.mark.parametrize("score", [0, 11, -1, "abc", "", None, "7.5", "1e1"])
def test_scores_outside_one_to_ten_are_refused_and_nothing_is_written(db, score):
    user, film = make_user(), make_movie()
    with pytest.raises(Invalid, match="1 to 10"):
        library.rate(user.id, film.id, score)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 0


def test_overlong_reviews_are_refused(db):
    user, film = make_user(), make_movie()
    with pytest.raises(Invalid, match="5,000"):
        library.rate(user.id, film.id, 6, "x" * 5001)
    assert library.rate(user.id, film.id, 6, "x" * 5000).review == "x" * 5000


def test_hidden_films_cannot_be_rated(db):
    user, film = make_user(), make_movie(hidden=True)
    with pytest.raises(NotFound):
        library.rate(user.id, film.id, 6)
    with pytest.raises(NotFound):
        library.unrate(user.id, film.id)


def test_reviews_are_newest_first_paged_and_never_hidden(db):
    film = make_movie()
    users = [make_user(display_name=f"Critic {n}") for n in range(5)]
    for number, user in enumerate(users):
        library.rate(user.id, film.id, 6, f"Review {number}")
    start = utcnow() - timedelta(days=1)
    for number, rating in enumerate(db.session.scalars(sa.select(Rating).order_by(Rating.id))):
        rating.created_at = start + timedelta(minutes=number)
    hidden = db.session.scalar(sa.select(Rating).where(Rating.review == "Review 3"))
    hidden.hidden = True
    silent = make_user()
    library.rate(silent.id, film.id, 9)  # a score alone is not a review
    db.session.commit()

    first = library.reviews_page(film.id, limit=2)
    assert [r.review for r in first.items] == ["Review 4", "Review 2"]
    second = library.reviews_page(film.id, after=first.next_cursor, limit=2)
    assert [r.review for r in second.items] == ["Review 1", "Review 0"]
    assert second.next_cursor is None
    mine_left_out = library.reviews_page(film.id, exclude_user_id=users[4].id)
    assert "Review 4" not in [r.review for r in mine_left_out.items]


def test_my_ratings_page_lists_only_mine_and_not_hidden_films(db):
    ann, bob = make_user(), make_user()
    visible, hidden = make_movie("Visible"), make_movie("Hidden later")
    library.rate(ann.id, visible.id, 7, "Nice")
    library.rate(ann.id, hidden.id, 3)
    library.rate(bob.id, visible.id, 2)
    db.session.get(Movie, hidden.id).hidden = True
    db.session.commit()
    page = library.ratings_page(ann.id)
    assert [(r.movie.title, r.score) for r in page.items] == [("Visible", 7)]


# -- continue watching ----------------------------------------------------------------------------


def test_continue_watching_lists_unfinished_videos_newest_first(db):
    ann, bob = make_user(), make_user()
    hidden_film = make_movie(hidden=True)
    older, newer, done, hidden, bobs = (
        make_video(title="Older"),
        make_video(make_movie(), title="Newer"),
        make_video(title="Done"),
        make_video(hidden_film, title="Hidden"),
        make_video(title="Bob's"),
    )
    now = utcnow()
    rows = [
        (ann, older, False, now - timedelta(hours=2)),
        (ann, newer, False, now - timedelta(hours=1)),
        (ann, done, True, now),
        (ann, hidden, False, now),
        (bob, bobs, False, now),
    ]
    for user, video, watched, at in rows:
        db.session.add(
            PlaybackProgress(
                user_id=user.id,
                video_id=video.id,
                position_seconds=30,
                duration_seconds=100,
                watched=watched,
                updated_at=at,
            )
        )
    db.session.commit()
    progress = playback.continue_watching(ann.id)
    assert [item.video.title for item in progress] == ["Newer", "Older"]
    assert progress[0].movie is not None
    assert len(playback.continue_watching(ann.id, limit=1)) == 1
