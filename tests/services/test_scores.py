from datetime import UTC, datetime, timedelta

import pytest

from aura.models import DailyVisit, Movie
from aura.services import jobs, scores
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


def test_a_first_visit_counts_in_single_statements(db):
    movie = make_movie(popular_score=1.0, trending_score=0.0)
    now = datetime.now(UTC)
    scores.film_visited(movie.id, now)
    scores.film_visited(movie.id, now)
    db.session.commit()
    db.session.refresh(movie)
    assert movie.view_count == 2
    assert movie.popular_score == pytest.approx(1.0 + 2 * scores.VIEW_POPULARITY)
    epoch = scores.trending_epoch()
    assert movie.trending_score == pytest.approx(2 * scores.trending_weight(now, epoch))


def visit(db, movie, at, visitor="h1"):
    db.session.add(DailyVisit(subject=f"film:{movie.id}", day=at.date(), visitor=visitor, at=at))


def test_trending_prefers_recent_visitors_and_forgets_old_ones(db):
    now = datetime.now(UTC)
    fresh, stale, ancient, unseen = (
        make_movie("Fresh"),
        make_movie("Stale"),
        make_movie("Ancient"),
        make_movie("Unseen"),
    )
    for n in range(3):
        visit(db, fresh, now - timedelta(hours=1), visitor=f"h{n}")
    for n in range(5):
        visit(db, stale, now - timedelta(days=6), visitor=f"h{n}")
    visit(db, ancient, now - timedelta(days=30))
    ancient.trending_score = 99.0
    db.session.commit()

    assert scores.recompute_trending(now) == 2
    for movie in (fresh, stale, ancient, unseen):
        db.session.refresh(movie)
    assert fresh.trending_score > stale.trending_score > 0
    # Visits older than the window count for nothing; a film nobody opened is not trending.
    assert ancient.trending_score == 0 and unseen.trending_score == 0


def test_incremental_weights_match_a_recompute(db):
    now = datetime.now(UTC)
    film = make_movie()
    scores.recompute_trending(now)  # settles the epoch the increments are relative to
    for hours in (50, 20, 1):
        at = now - timedelta(hours=hours)
        visit(db, film, at, visitor=f"h{hours}")
        scores.film_visited(film.id, at)
    db.session.commit()
    db.session.refresh(film)
    incremental = film.trending_score
    scores.recompute_trending(now)
    db.session.refresh(film)
    assert film.trending_score == pytest.approx(incremental)


def test_the_epoch_moves_forward_and_keeps_the_order(db):
    now = datetime.now(UTC)
    older, newer = make_movie(), make_movie()
    visit(db, older, now - timedelta(days=3))
    visit(db, newer, now - timedelta(hours=2))
    db.session.commit()
    later = now + scores.REBASE_AFTER + timedelta(days=400)
    scores.recompute_trending(now)
    assert scores.trending_epoch() == scores.DEFAULT_EPOCH or scores.trending_epoch() < now
    scores.recompute_trending(later)  # nothing is in the window any more, and nothing overflows
    assert scores.trending_epoch() > now
    db.session.refresh(older)
    assert older.trending_score == 0


def test_refresh_runs_at_most_once_per_interval_across_callers(db):
    assert scores.refresh_if_due() is True
    assert scores.refresh_if_due() is False
    run = jobs.last_run(scores.REFRESH_JOB)
    assert run.finished_at is not None and "trending" in run.outcome


def test_recompute_all_orders_popular_by_popularity_and_views(db):
    a = make_movie(popularity=10.0, view_count=0)
    b = make_movie(popularity=9.99, view_count=1)
    scores.recompute_all()
    db.session.refresh(a)
    db.session.refresh(b)
    assert b.popular_score > a.popular_score
    assert db.session.get(Movie, a.id).top_rated_score > 0
