"""The scores each offline catalog row is ordered by, kept in indexed columns on Movie.

- popular: source popularity plus a little for every visitor-day the film was opened;
- trending: visitors of the last 7 days, each counted once a day, weighted by how recent they
  are (a 2-day half-life); films nobody opened this week are not trending at all;
- top rated: a Bayesian average of the source score and Aura's own ratings.

Trending is kept with forward decay: a visit at time t adds ``2 ** ((t - epoch) / half-life)``,
so newer visits weigh more without any periodic rewrite of every film; ``refresh`` (run by
``aura refresh-scores`` and the serving processes' scheduler, once across them) drops visits
that left the window and moves the epoch forward before the numbers grow large.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from aura.extensions import cache, db
from aura.models import DailyVisit, JobRun, Movie, Rating, utcnow
from aura.services import catalog, jobs, upserts

VIEW_POPULARITY = 0.1  # popular_score gained per visitor-day
TRENDING_WINDOW = timedelta(days=7)
TRENDING_HALF_LIFE_HOURS = 48.0
SOURCE_VOTE_CAP = 500  # source votes counted at most, so Aura's own ratings still move a film
MIN_VOTES = 50  # the Bayesian prior's weight: films with fewer votes lean to the mean
REFRESH_JOB = "refresh-scores"
REFRESH_EVERY = timedelta(hours=1)
REBASE_AFTER = timedelta(days=60)  # 2 ** (60 days / 2 days) is still a modest float
DEFAULT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


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


# -- trending -------------------------------------------------------------------------------------


def trending_epoch() -> datetime:
    """The reference time of every stored trending weight (moved by ``refresh``)."""
    state = db.session.scalar(sa.select(JobRun.state).where(JobRun.name == REFRESH_JOB))
    if isinstance(state, dict) and isinstance(state.get("epoch"), str):
        try:
            return datetime.fromisoformat(state["epoch"])
        except ValueError:
            pass
    return DEFAULT_EPOCH


def trending_weight(at: datetime, epoch: datetime) -> float:
    return math.pow(2.0, (at - epoch).total_seconds() / 3600 / TRENDING_HALF_LIFE_HOURS)


def film_visited(movie_id: int, at: datetime) -> None:
    """A visitor opened the film for the first time today: count them for the rows. Does not
    commit."""
    films_visited([(movie_id, at)])


def films_visited(visits: Sequence[tuple[int, datetime]]) -> None:
    """First visits of the day (film, when), counted for the rows: one single-statement
    update per film (no read-then-write race), however many visits. Does not commit."""
    if not visits:
        return
    epoch = trending_epoch()
    per_film: dict[int, list[float]] = defaultdict(lambda: [0, 0.0])
    for movie_id, at in visits:
        per_film[movie_id][0] += 1
        per_film[movie_id][1] += trending_weight(at, epoch)
    db.session.execute(
        _COUNT_VISITS,
        [
            {"film": movie_id, "visits": count, "weight": weight}
            for movie_id, (count, weight) in per_film.items()
        ],
    )


_COUNT_VISITS = (
    sa.update(Movie.__table__)
    .where(Movie.__table__.c.id == sa.bindparam("film"))
    .values(
        view_count=Movie.__table__.c.view_count + sa.bindparam("visits", type_=sa.Integer),
        popular_score=Movie.__table__.c.popular_score
        + sa.bindparam("visits", type_=sa.Integer) * VIEW_POPULARITY,
        trending_score=Movie.__table__.c.trending_score + sa.bindparam("weight", type_=sa.Float),
    )
)


def recompute_trending(now: datetime | None = None) -> int:
    """Rebuild trending from the week's daily visits (old ones drop out), moving the epoch
    forward when it is old. Returns how many films are trending. Commits."""
    now = now or utcnow()
    epoch = trending_epoch()
    if now - epoch > REBASE_AFTER:
        epoch = (now - TRENDING_WINDOW).replace(minute=0, second=0, microsecond=0)
    since = (now - TRENDING_WINDOW).date()
    weights: dict[int, float] = defaultdict(float)
    for subject, at in db.session.execute(
        sa.select(DailyVisit.subject, DailyVisit.at).where(
            DailyVisit.day >= since, DailyVisit.subject.like("film:%")
        )
    ):
        if now - at <= TRENDING_WINDOW:
            weights[int(subject.partition(":")[2])] += trending_weight(at, epoch)
    db.session.execute(
        sa.update(Movie)
        .where(Movie.trending_score != 0)
        .values(trending_score=0.0)
        .execution_options(synchronize_session=False)
    )
    if weights:
        known = set(db.session.scalars(sa.select(Movie.id).where(Movie.id.in_(list(weights)))))
        db.session.execute(
            sa.update(Movie),
            [
                {"id": key, "trending_score": value}
                for key, value in weights.items()
                if key in known
            ],
        )
    upserts.insert_new(JobRun, name=REFRESH_JOB)
    db.session.execute(
        sa.update(JobRun)
        .where(JobRun.name == REFRESH_JOB)
        .values(state={"epoch": epoch.isoformat()})
    )
    catalog.bump_version()  # the rows' order changed: rendered rows are stale everywhere
    db.session.commit()
    return len(weights)


def refresh(now: datetime | None = None) -> str:
    """The scheduled refresh: trending rebuilt, top rated against the current mean. Commits."""
    trending = recompute_trending(now)
    recompute_top_rated()
    return f"{trending} films trending"


def refresh_if_due() -> bool:
    """Run ``refresh`` if no process has within the hour; True if this call ran it."""
    return jobs.run_if_due(REFRESH_JOB, REFRESH_EVERY, refresh)


# -- popular and top rated ------------------------------------------------------------------------


def recompute_top_rated() -> None:
    """Every film's top-rated score against today's mean. Commits."""
    mean = _mean_score()
    cache.set("scores:mean", mean, timeout=3600)
    rows = db.session.execute(
        sa.select(
            Movie.id, Movie.vote_average, Movie.vote_count, Movie.rating_sum, Movie.rating_count
        )
    ).all()
    if rows:
        db.session.execute(
            sa.update(Movie),
            [
                {
                    "id": row.id,
                    "top_rated_score": bayesian(
                        row.vote_average, row.vote_count, row.rating_sum, row.rating_count, mean
                    ),
                }
                for row in rows
            ],
        )
    db.session.commit()


def recompute_all() -> None:
    """Recompute every film's scores (after a bulk load or sync). Commits."""
    rows = db.session.execute(sa.select(Movie.id, Movie.popularity, Movie.view_count)).all()
    if rows:
        db.session.execute(
            sa.update(Movie),
            [
                {"id": row.id, "popular_score": row.popularity + VIEW_POPULARITY * row.view_count}
                for row in rows
            ],
        )
    db.session.commit()
    recompute_top_rated()
    recompute_trending()


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
