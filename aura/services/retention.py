"""``aura purge``: what Aura keeps only for a while.

- access grants once expired;
- views older than ``AURA_VIEW_RETENTION_DAYS``;
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
from aura.models import View, utcnow
from aura.services import grants, media

STALE_UPLOAD_SECONDS = 24 * 3600


@dataclass(frozen=True)
class PurgeReport:
    grants: int
    views: int
    upload_files: int


def purge_views(before: datetime) -> int:
    """Delete views older than ``before``. Commits."""
    result = db.session.execute(sa.delete(View).where(View.at < before))
    db.session.commit()
    return result.rowcount or 0


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
    """Remove expired grants, views past retention and abandoned upload files."""
    now = now or utcnow()
    days = current_app.config["VIEW_RETENTION_DAYS"]
    return PurgeReport(
        grants=grants.purge_expired(now),
        views=purge_views(now - timedelta(days=days)) if days > 0 else 0,
        upload_files=purge_stale_uploads(current_app.config["MEDIA_DIR"]),
    )
