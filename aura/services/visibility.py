"""The one rule of what viewers may see: hidden films, their videos and hidden reviews never
reach them; supervisors see everything (marked).

Every listing and lookup of films, videos, reviews and grants filters through these functions,
so a change to what "hidden" means is made here once. ``tests/services/test_visibility.py``
walks every listing to hold them to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from aura.errors import NotFound
from aura.extensions import db
from aura.models import Movie, Rating, Video


def films(include_hidden: bool) -> sa.ColumnElement[bool]:
    """The condition on ``Movie`` for films this audience may see."""
    return sa.true() if include_hidden else Movie.hidden.is_(False)


def videos(include_hidden: bool) -> sa.ColumnElement[bool]:
    """The condition on ``Video`` for videos this audience may see: a video of a hidden film is
    hidden with it. Needs no join: it asks about the video's film in a subquery."""
    if include_hidden:
        return sa.true()
    film = aliased(Movie)  # its own name, so a query that also joins Movie is not confused
    return ~sa.exists(sa.select(film.id).where(film.id == Video.movie_id, film.hidden.is_(True)))


def reviews(include_hidden_films: bool = False) -> sa.ColumnElement[bool]:
    """The condition on ``Rating`` for reviews other people may read: written, not hidden by a
    supervisor, on a film the audience may see."""
    condition = sa.and_(Rating.review.is_not(None), Rating.hidden.is_(False))
    if include_hidden_films:
        return condition
    film = aliased(Movie)
    hidden_film = sa.select(film.id).where(film.id == Rating.movie_id, film.hidden.is_(True))
    return sa.and_(condition, ~sa.exists(hidden_film))


def check_film(movie: Movie | None, include_hidden: bool) -> Movie:
    """The film if this audience may see it, else NotFound (a hidden film is simply not there)."""
    if movie is None or (movie.hidden and not include_hidden):
        raise NotFound("There is no such film.")
    return movie


def video_visible(video: Video, include_hidden: bool) -> bool:
    """Whether this audience may see ``video`` (one query for its film, when it has one)."""
    if include_hidden or video.movie_id is None:
        return True
    return not db.session.scalar(sa.select(Movie.hidden).where(Movie.id == video.movie_id))
