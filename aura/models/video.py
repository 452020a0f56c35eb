from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aura.extensions import db
from aura.models.base import UTCDateTime, utcnow
from aura.models.movie import Movie
from aura.models.user import User


class Video(db.Model):
    __tablename__ = "video"
    __table_args__ = (
        # The video library's two indexed orders, each with the id as its tie-break.
        sa.Index("ix_video_uploaded", "uploaded_at", "id"),
        sa.Index("ix_video_views", "view_count", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    movie_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("movie.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str | None] = mapped_column(sa.Text)
    storage_key: Mapped[str] = mapped_column(
        sa.String(64), unique=True
    )  # random, never the upload's name
    original_filename: Mapped[str | None] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    thumbnail_key: Mapped[str | None] = mapped_column(sa.String(64))
    thumbnail_content_type: Mapped[str | None] = mapped_column(sa.String(100))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    uploader_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    view_count: Mapped[int] = mapped_column(default=0)
    # Read from the file when it is stored (aura.services.durations); None when unreadable.
    duration_seconds: Mapped[float | None]

    movie: Mapped[Movie | None] = relationship()
    uploader: Mapped[User | None] = relationship()

    @property
    def locked(self) -> bool:
        return self.password_hash is not None


# The library's title order is case-blind: an index on the expression it sorts by.
sa.Index("ix_video_title", sa.func.lower(Video.title), Video.id)


class AccessGrant(db.Model):
    """Permission for one browser to stream one video until ``expires_at``.

    The token is 256 random bits kept only in the browser's session; only its hash is stored.
    """

    __tablename__ = "access_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    video_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("video.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(sa.String(64))  # anonymous browser session
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    client_ip: Mapped[str | None] = mapped_column(sa.String(64))
    view_counted: Mapped[bool] = mapped_column(default=False)

    video: Mapped[Video] = relationship()


class PlaybackProgress(db.Model):
    __tablename__ = "playback_progress"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "video_id", name="uq_playback_progress_user_video"),
        sa.Index("ix_playback_progress_user_updated", "user_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    video_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("video.id", ondelete="CASCADE"))
    position_seconds: Mapped[float] = mapped_column(default=0.0)
    duration_seconds: Mapped[float | None]
    watched: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    video: Mapped[Video] = relationship()


class Caption(db.Model):
    """A WebVTT subtitle file of a video in one language, stored in the media folder."""

    __tablename__ = "caption"

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("video.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(sa.String(35))  # a BCP 47 tag, such as "en" or "pt-BR"
    label: Mapped[str] = mapped_column(sa.String(100))
    storage_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
