"""``aura purge``: what Aura keeps only for a while.

- access grants and password-reset links once expired;
- raw views and audit events older than ``AURA_VIEW_RETENTION_DAYS`` (the hourly and daily
  rollups the dashboard reads are kept);
- who was counted on which day, once trending no longer needs it, and past days' salts (so a
  visitor hash can never be recomputed);
- upload temp files a crashed process left in the media folder, or its multipart uploads left
  unfinished in the bucket (a live upload is younger than a day: uploads are bounded by the
  request timeout).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from aura.extensions import db
from aura.models import AuditEvent, DailyVisit, PasswordReset, View, VisitorSalt, utcnow
from aura.services import grants, media, scores
from aura.services.storage.local import LocalStorage

STALE_UPLOAD_SECONDS = 24 * 3600


@dataclass(frozen=True)
class PurgeReport:
    grants: int
    views: int
    audit_events: int
    upload_files: int
    reset_links: int = 0
    visits: int = 0

    def summary(self) -> str:
        return (
            f"Purged {self.grants} expired access grants, {self.reset_links} expired reset "
            f"links, {self.views} old views, {self.audit_events} old audit events, "
            f"{self.visits} old daily visits and {self.upload_files} abandoned upload files."
        )


def _delete(stmt) -> int:
    result = db.session.execute(stmt)
    db.session.commit()
    return result.rowcount or 0


def purge_views(before: datetime) -> int:
    """Delete raw views older than ``before`` (rollups stay). Commits."""
    return _delete(sa.delete(View).where(View.at < before))


def purge_stale_uploads(directory: str, older_than: float = STALE_UPLOAD_SECONDS) -> int:
    """Upload temp files in a media folder older than ``older_than`` seconds, removed."""
    return LocalStorage(directory).purge_stale_uploads(older_than)


def purge(now: datetime | None = None) -> PurgeReport:
    """Remove what is kept only for a while (see the module's docstring)."""
    now = now or utcnow()
    days = current_app.config["VIEW_RETENTION_DAYS"]
    cutoff = now - timedelta(days=days)
    visits_until = (now - scores.TRENDING_WINDOW - timedelta(days=1)).date()
    _delete(sa.delete(VisitorSalt).where(VisitorSalt.day < now.date()))
    return PurgeReport(
        grants=grants.purge_expired(now),
        views=purge_views(cutoff) if days > 0 else 0,
        audit_events=_delete(sa.delete(AuditEvent).where(AuditEvent.at < cutoff))
        if days > 0
        else 0,
        upload_files=media.current().purge_stale_uploads(STALE_UPLOAD_SECONDS),
        reset_links=_delete(sa.delete(PasswordReset).where(PasswordReset.expires_at <= now)),
        visits=_delete(sa.delete(DailyVisit).where(DailyVisit.day < visits_until)),
    )
