from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aura.extensions import db
from aura.models.base import UTCDateTime, utcnow
from aura.models.user import User

LIST_NAMES = ("trending", "popular", "top_rated", "upcoming")

movie_genre = sa.Table(
    "movie_genre",
    db.metadata,
    sa.Column("movie_id", sa.ForeignKey("movie.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("genre_id", sa.ForeignKey("genre.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_movie_genre_genre_movie", "genre_id", "movie_id"),
)


class Genre(db.Model):
    __tablename__ = "genre"

    id: Mapped[int] = mapped_column(primary_key=True)
    tmdb_id: Mapped[int | None] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)

    def __repr__(self) -> str:
        return f"<Genre {self.slug}>"


class Movie(db.Model):
    __tablename__ = "movie"
    __table_args__ = (
        sa.CheckConstraint("source IN ('demo', 'tmdb', 'local')", name="source"),
        sa.Index("ix_movie_trending", "trending_score", "id"),
        sa.Index("ix_movie_popular", "popular_score", "id"),
        sa.Index("ix_movie_top_rated", "top_rated_score", "id"),
        sa.Index("ix_movie_release", "release_date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tmdb_id: Mapped[int | None] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(sa.String(500))
    original_title: Mapped[str | None] = mapped_column(sa.String(500))
    overview: Mapped[str | None] = mapped_column(sa.Text)
    tagline: Mapped[str | None] = mapped_column(sa.String(500))
    release_date: Mapped[date | None] = mapped_column(sa.Date)
    runtime: Mapped[int | None]  # minutes
    director: Mapped[str | None] = mapped_column(sa.String(300))
    certification: Mapped[str | None] = mapped_column(sa.String(20))
    poster_path: Mapped[str | None] = mapped_column(sa.String(300))
    backdrop_path: Mapped[str | None] = mapped_column(sa.String(300))
    vote_average: Mapped[float | None]  # the source's score, 0-10
    vote_count: Mapped[int | None]
    popularity: Mapped[float] = mapped_column(default=0.0)
    budget: Mapped[int | None] = mapped_column(sa.BigInteger)
    revenue: Mapped[int | None] = mapped_column(sa.BigInteger)
    facts: Mapped[dict | None] = mapped_column(sa.JSON)  # further facts the source had, for display
    source: Mapped[str] = mapped_column(sa.String(10), default="local")

    trailer_key: Mapped[str | None] = mapped_column(sa.String(32))
    trailer_embeddable: Mapped[bool | None]
    trailer_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(500))

    # Aura's own signals, kept as single-statement counters and recomputed scores so that every
    # catalog row is a keyset walk over one index.
    view_count: Mapped[int] = mapped_column(default=0)
    rating_count: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    trending_score: Mapped[float] = mapped_column(default=0.0)
    popular_score: Mapped[float] = mapped_column(default=0.0)
    top_rated_score: Mapped[float] = mapped_column(default=0.0)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Loaded only where asked for (the film page): a card never needs them, and "raise" keeps
    # templates from querying behind our backs.
    genres: Mapped[list[Genre]] = relationship(
        secondary=movie_genre, order_by=Genre.name, lazy="raise"
    )
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id])

    @property
    def year(self) -> int | None:
        return self.release_date.year if self.release_date else None

    @property
    def aura_average(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None

    def __repr__(self) -> str:
        return f"<Movie {self.id} {self.title!r}>"


class ListEntry(db.Model):
    """A TMDB list's order (trending, popular, ...) as last fetched."""

    __tablename__ = "list_entry"
    __table_args__ = (
        sa.UniqueConstraint("list_name", "rank", name="uq_list_entry_list_rank"),
        sa.CheckConstraint(
            "list_name IN ('trending', 'popular', 'top_rated', 'upcoming')", name="list_name"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(sa.String(20))
    rank: Mapped[int]
    movie_id: Mapped[int] = mapped_column(sa.ForeignKey("movie.id", ondelete="CASCADE"), index=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    movie: Mapped[Movie] = relationship()
