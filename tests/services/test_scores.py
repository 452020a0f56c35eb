from datetime import UTC, datetime, timedelta

import pytest

from aura.models import Movie, View
from aura.services import scores
from tests.factories import make_movie


def test_bayesian_average_pulls_thinly_voted_films_to_the_mean():
    mean = 6.0
    many = scores.bayesian(8.0, 100_000, 0, 0, mean)
    few = scores.bayesian(9.5, 3, 0, 0, mean)
    assert many > few  # 9.5 from three votes is weaker evidence than 8.0 from thousands
    assert mean < few < 9.5
    assert scores.bayesian(None, None, 0, 0, mean) < mean


def test_aura_ratings_move_a_film(db):
    base = scores.bayesian(7.0, 10_000, 0, 0, 6.0)
    loved = scores.bayesian(7.0, 10_000, 10 * 100, 100, 6.0)
    hated = scores.bayesian(7.0, 10_000, 1 * 100, 100, 6.0)
    assert hated < base < loved


def test_a_view_counts_in_single_statements(db):
    movie = make_movie(popular_score=1.0, trending_score=0.0)
    scores.movie_viewed(movie.id)
    scores.movie_viewed(movie.id)
    db.session.commit()
    db.session.refresh(movie)
    assert movie.view_count == 2
    assert movie.popular_score == pytest.approx(1.0 + 2 * scores.VIEW_POPULARITY)
    assert movie.trending_score == 2.0


def test_trending_prefers_recent_views_and_forgets_old_ones(db):
    now = datetime.now(UTC)
    fresh = make_movie("Fresh", popularity=1.0)
    stale = make_movie("Stale", popularity=1.0)
    ancient = make_movie("Ancient", popularity=50.0, trending_score=99.0)
    for _ in range(3):
        db.session.add(View(kind="detail", movie_id=fresh.id, at=now - timedelta(hours=1)))
    for _ in range(5):
        db.session.add(View(kind="detail", movie_id=stale.id, at=now - timedelta(days=6)))
    db.session.add(View(kind="detail", movie_id=ancient.id, at=now - timedelta(days=30)))
    db.session.commit()

    assert scores.refresh_trending(force=True)
    for movie in (fresh, stale, ancient):
        db.session.refresh(movie)
    assert fresh.trending_score > stale.trending_score > 0
    # Views older than the window count for nothing; popularity alone is a small tie-break.
    assert ancient.trending_score <= scores.TRENDING_TIEBREAK
    assert stale.trending_score > ancient.trending_score


def test_refresh_runs_at_most_once_per_interval(db):
    assert scores.refresh_trending() is True
    assert scores.refresh_trending() is False


def test_recompute_all_orders_popular_by_popularity_and_views(db):
    a = make_movie(popularity=10.0, view_count=0)
    b = make_movie(popularity=9.99, view_count=1)
    scores.recompute_all()
    db.session.refresh(a)
    db.session.refresh(b)
    assert b.popular_score > a.popular_score
    assert db.session.get(Movie, a.id).top_rated_score > 0
