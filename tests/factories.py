"""Test data builders: each adds a row, commits, and returns it (needs the ``db`` fixture)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from aura.extensions import db
from aura.models import Genre, Movie, movie_genre
from aura.services.demo import slugify

_counter = itertools.count(1)


def make_genre(name: str = "Drama", **fields: Any) -> Genre:
    genre = Genre(name=name, slug=fields.pop("slug", slugify(name)), **fields)
    db.session.add(genre)
    db.session.commit()
    return genre


def make_movie(title: str | None = None, genres: list[Genre] | None = None, **fields: Any) -> Movie:
    number = next(_counter)
    values: dict[str, Any] = {
        "title": title or f"Film {number}",
        "release_date": date(2000, 1, 1),
        "director": "Ada Director",
        "source": "local",
        "popularity": 1.0,
        "popular_score": 1.0,
        "trending_score": 0.0,
        "top_rated_score": 5.0,
    }
    values.update(fields)
    movie = Movie(**values)
    db.session.add(movie)
    db.session.flush()
    for genre in genres or []:
        db.session.execute(movie_genre.insert().values(movie_id=movie.id, genre_id=genre.id))
    db.session.commit()
    return movie


def make_movies(count: int, **fields: Any) -> list[Movie]:
    return [make_movie(**fields) for _ in range(count)]
