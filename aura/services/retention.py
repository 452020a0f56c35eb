"""``aura purge``: what Aura keeps only for a while.

- access grants and password-reset links once expired;
- raw views and audit events older than ``AURA_VIEW_RETENTION_DAYS`` (the hourly and daily
  rollups the dashboard reads are kept);
- who was counted on which day, once trending no longer needs it, and past days' salts (so a
  visitor hash can never be recomputed);
- upload temp files a crashed process left in the media folder (a live upload's temp file is
  younger than a day: uploads are bounded by the request timeout).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from aura.extensions import db
from aura.models import AuditEvent, DailyVisit, PasswordReset, View, VisitorSalt, utcnow
from aura.services import grants, media, scores

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
    if not os.path.isdir(directory):
        return 0
    cutoff = time.time() - older_than
    removed = 0
    for entry in os.scandir(directory):
        if not (entry.name.startswith(media.TEMP_PREFIX) and entry.is_file()):
            continue
        try:
            if entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue
    return removed


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
        upload_files=purge_stale_uploads(current_app.config["MEDIA_DIR"]),
        reset_links=_delete(sa.delete(PasswordReset).where(PasswordReset.expires_at <= now)),
        visits=_delete(sa.delete(DailyVisit).where(DailyVisit.day < visits_until)),
    )
