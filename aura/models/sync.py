from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from aura.extensions import db
from aura.models.base import UTCDateTime, utcnow

SYNC_KINDS = ("full", "changes")
SYNC_STATUSES = ("running", "ok", "partial", "failed", "interrupted")


class SyncRun(db.Model):
    """One run of ``aura sync-tmdb``: when, how it ended, what it did, and why it stopped."""

    __tablename__ = "sync_run"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('full', 'changes')", name="kind"),
        sa.CheckConstraint(
            "status IN ('running', 'ok', 'partial', 'failed', 'interrupted')", name="status"
        ),
        sa.Index("ix_sync_run_status_started_at", "status", "started_at"),
        sa.Index("ix_sync_run_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(12), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    added: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(sa.String(500))  # the error, when there was one
    detail: Mapped[dict | None] = mapped_column(sa.JSON)  # per-list counts, trailers checked

    def __repr__(self) -> str:
        return f"<SyncRun {self.id} {self.kind} {self.status}>"
