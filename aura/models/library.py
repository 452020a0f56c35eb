from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aura.extensions import db
from aura.models.base import UTCDateTime, utcnow
from aura.models.movie import Movie
from aura.models.user import User


class WatchlistEntry(db.Model):
    __tablename__ = "watchlist_entry"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "movie_id", name="uq_watchlist_entry_user_movie"),
        sa.Index("ix_watchlist_entry_user_added", "user_id", "added_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    movie_id: Mapped[int] = mapped_column(sa.ForeignKey("movie.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    movie: Mapped[Movie] = relationship()


class Rating(db.Model):
    __tablename__ = "rating"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "movie_id", name="uq_rating_user_movie"),
        sa.CheckConstraint("score BETWEEN 1 AND 10", name="score_range"),
        sa.Index("ix_rating_movie_created", "movie_id", "created_at", "id"),
        sa.Index("ix_rating_user_updated", "user_id", "updated_at", "id"),
        sa.Index("ix_rating_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    movie_id: Mapped[int] = mapped_column(sa.ForeignKey("movie.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(sa.SmallInteger)
    review: Mapped[str | None] = mapped_column(sa.Text)
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id])
    movie: Mapped[Movie] = relationship()


class DiaryEntry(db.Model):
    """One day a user watched a film: logged by the player past 90%, or by the user.

    At most one entry per film and day; a later entry of the same film is a rewatch (decided
    when the diary is read, so removing the first one makes the next one the first watch).
    """

    __tablename__ = "diary_entry"
    __table_args__ = (
        sa.UniqueConstraint(
            "user_id", "movie_id", "watched_on", name="uq_diary_entry_user_movie_day"
        ),
        sa.CheckConstraint("source IN ('playback', 'manual')", name="source"),
        sa.Index("ix_diary_entry_user_watched", "user_id", "watched_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    movie_id: Mapped[int] = mapped_column(sa.ForeignKey("movie.id", ondelete="CASCADE"), index=True)
    watched_on: Mapped[date] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.String(10), default="manual")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    movie: Mapped[Movie] = relationship()
