"""The scores each offline catalog row is ordered by, kept in indexed columns on Movie.

- popular: source popularity plus a little for every all-time view;
- trending: views of the last 7 days with a 2-day half-life, then popularity as a tie-break;
- top rated: a Bayesian average of the source score and Aura's own ratings.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from aura.extensions import cache, db
from aura.models import Movie, Rating, View

VIEW_POPULARITY = 0.1  # popular_score gained per view
TRENDING_WINDOW = timedelta(days=7)
TRENDING_HALF_LIFE_HOURS = 48.0
TRENDING_TIEBREAK = 0.01  # popularity's whole weight in trending: less than one decayed view
SOURCE_VOTE_CAP = 500  # source votes counted at most, so Aura's own ratings still move a film
MIN_VOTES = 50  # the Bayesian prior's weight: films with fewer votes lean to the mean
REFRESH_SECONDS = 600


def _max_popularity() -> float:
    return db.session.scalar(sa.select(sa.func.max(Movie.popularity))) or 1.0


def _mean_score() -> float:
    mean = db.session.scalar(
        sa.select(sa.func.avg(Movie.vote_average)).where(Movie.vote_average.is_not(None))
    )
    return float(mean) if mean is not None else 6.0


def bayesian(
    vote_average: float | None,
    vote_count: int | None,
    rating_sum: int,
    rating_count: int,
    mean: float,
) -> float:
    source_votes = min(vote_count or 0, SOURCE_VOTE_CAP) if vote_average is not None else 0
    votes = source_votes + rating_count
    if votes == 0:
        return mean * MIN_VOTES / (MIN_VOTES + 1)  # unrated films sit just below the mean
    average = ((vote_average or 0.0) * source_votes + rating_sum) / votes
    return (votes * average + MIN_VOTES * mean) / (votes + MIN_VOTES)


def recompute_all() -> None:
    """Recompute every film's scores (after a bulk load or sync). Commits."""
    mean = _mean_score()
    tiebreak = TRENDING_TIEBREAK / _max_popularity()
    rows = db.session.execute(
        sa.select(
            Movie.id,
            Movie.popularity,
            Movie.view_count,
            Movie.vote_average,
            Movie.vote_count,
            Movie.rating_sum,
            Movie.rating_count,
        )
    ).all()
    updates = [
        {
            "id": row.id,
            "popular_score": row.popularity + VIEW_POPULARITY * row.view_count,
            "trending_score": row.popularity * tiebreak,
            "top_rated_score": bayesian(
                row.vote_average, row.vote_count, row.rating_sum, row.rating_count, mean
            ),
        }
        for row in rows
    ]
    if updates:
        db.session.execute(sa.update(Movie), updates)
    db.session.commit()
    refresh_trending(force=True)


def refresh_trending(force: bool = False) -> bool:
    """Decay trending scores; runs at most every REFRESH_SECONDS across all processes."""
    if not force and not cache.add("scores:trending-refresh", 1, timeout=REFRESH_SECONDS):
        return False
    now = datetime.now(UTC)
    tiebreak = TRENDING_TIEBREAK / _max_popularity()
    decayed: dict[int, float] = defaultdict(float)
    for movie_id, at in db.session.execute(
        sa.select(View.movie_id, View.at).where(
            View.movie_id.is_not(None), View.at >= now - TRENDING_WINDOW
        )
    ):
        age_hours = max((now - at).total_seconds() / 3600, 0.0)
        decayed[movie_id] += math.pow(0.5, age_hours / TRENDING_HALF_LIFE_HOURS)
    # Films whose views have aged out fall back to the popularity tie-break alone.
    db.session.execute(
        sa.update(Movie)
        .where(Movie.trending_score > Movie.popularity * tiebreak + 1e-9)
        .values(trending_score=Movie.popularity * tiebreak)
        .execution_options(synchronize_session=False)
    )
    if decayed:
        popularity = dict(
            db.session.execute(
                sa.select(Movie.id, Movie.popularity).where(Movie.id.in_(list(decayed)))
            ).all()
        )
        db.session.execute(
            sa.update(Movie),
            [
                {"id": movie_id, "trending_score": score + popularity.get(movie_id, 0.0) * tiebreak}
                for movie_id, score in decayed.items()
                if movie_id in popularity
            ],
        )
    db.session.commit()
    return True


def movie_viewed(movie_id: int) -> None:
    """Count one view in single statements (no read-then-write races). Does not commit."""
    db.session.execute(
        sa.update(Movie)
        .where(Movie.id == movie_id)
        .values(
            view_count=Movie.view_count + 1,
            popular_score=Movie.popular_score + VIEW_POPULARITY,
            trending_score=Movie.trending_score + 1.0,
        )
        .execution_options(synchronize_session=False)
    )


def rating_changed(movie_id: int) -> None:
    """Recompute one film's Aura rating aggregate and top-rated score. Does not commit."""
    count, total = db.session.execute(
        sa.select(sa.func.count(Rating.id), sa.func.coalesce(sa.func.sum(Rating.score), 0)).where(
            Rating.movie_id == movie_id
        )
    ).one()
    movie = db.session.get(Movie, movie_id)
    if movie is None:
        return
    movie.rating_count = count
    movie.rating_sum = int(total)
    mean = cache.get("scores:mean")
    if mean is None:
        mean = _mean_score()
        cache.set("scores:mean", mean, timeout=3600)
    movie.top_rated_score = bayesian(
        movie.vote_average, movie.vote_count, movie.rating_sum, movie.rating_count, mean
    )
