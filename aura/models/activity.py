from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aura.extensions import db
from aura.models.base import BigIntPK, UTCDateTime, utcnow
from aura.models.movie import Movie
from aura.models.user import User
from aura.models.video import Video


class View(db.Model):
    """One page view of a film (`detail`) or one play of a video (`play`)."""

    __tablename__ = "view"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('detail', 'play')", name="kind"),
        sa.Index("ix_view_at", "at"),
        sa.Index("ix_view_movie_at", "movie_id", "at"),
        sa.Index("ix_view_video_at", "video_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    movie_id: Mapped[int | None] = mapped_column(sa.ForeignKey("movie.id", ondelete="CASCADE"))
    video_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("video.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    client_ip: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    referrer: Mapped[str | None] = mapped_column(sa.String(1024))
    kind: Mapped[str] = mapped_column(sa.String(10))
    visitor: Mapped[str | None] = mapped_column(sa.String(40))  # see DailyVisit.visitor
    bot: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    movie: Mapped[Movie | None] = relationship()
    video: Mapped[Video | None] = relationship()
    user: Mapped[User | None] = relationship()


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_at", "at"),
        sa.Index("ix_audit_event_action_at", "action", "at"),
        sa.Index("ix_audit_event_actor_at", "actor_id", "at"),
        sa.Index("ix_audit_event_target_at", "target", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(64))
    target: Mapped[str | None] = mapped_column(sa.String(200))
    detail: Mapped[dict | None] = mapped_column(sa.JSON)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()
