"""What the dashboard reads: counts per hour and per day, kept as views are recorded.

Raw ``View`` rows are kept for ``AURA_VIEW_RETENTION_DAYS``; these rollups are kept for good,
so the dashboard never scans raw views. ``DailyVisit`` remembers who was already counted today
(a site, a film or a video), so a visitor counts once per day however often they reload.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from aura.extensions import db
from aura.models.base import UTCDateTime


class TrafficHour(db.Model):
    """Site-wide counts for one hour (UTC): film pages opened, videos played, bot requests."""

    __tablename__ = "traffic_hour"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    views: Mapped[int] = mapped_column(default=0)
    plays: Mapped[int] = mapped_column(default=0)
    bots: Mapped[int] = mapped_column(default=0)


class TrafficDay(db.Model):
    """Unique visitors of one day (UTC): each counted once, however many pages they opened."""

    __tablename__ = "traffic_day"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    visitors: Mapped[int] = mapped_column(default=0)


class FilmHour(db.Model):
    """One film's counts for one hour: page views, plays of its videos, new visitors."""

    __tablename__ = "film_hour"
    __table_args__ = (sa.Index("ix_film_hour_hour", "hour"),)

    movie_id: Mapped[int] = mapped_column(
        sa.ForeignKey("movie.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    views: Mapped[int] = mapped_column(default=0)
    plays: Mapped[int] = mapped_column(default=0)
    visitors: Mapped[int] = mapped_column(default=0)


class VideoHour(db.Model):
    """One video's counts for one hour: plays and new visitors."""

    __tablename__ = "video_hour"
    __table_args__ = (sa.Index("ix_video_hour_hour", "hour"),)

    video_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("video.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    plays: Mapped[int] = mapped_column(default=0)
    visitors: Mapped[int] = mapped_column(default=0)


class DailyVisit(db.Model):
    """A visitor already counted today for a subject (``site``, ``film:12``, ``video:<id>``).

    ``visitor`` is ``u<id>`` for a signed-in user, else a keyed hash of address and browser with
    a salt that changes every day (so nobody can follow a visitor from one day to the next).
    """

    __tablename__ = "daily_visit"

    subject: Mapped[str] = mapped_column(sa.String(48), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    visitor: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class VisitorSalt(db.Model):
    """The random salt of one day's visitor hashes; deleted once the day is over."""

    __tablename__ = "visitor_salt"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    salt: Mapped[str] = mapped_column(sa.String(64))


class JobRun(db.Model):
    """The last run of a scheduled job, so several processes run it once between them."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(sa.String(200))
    state: Mapped[dict | None] = mapped_column(sa.JSON)
