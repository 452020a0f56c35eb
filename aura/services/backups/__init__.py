"""Backups an operator can trust: ``aura backup``, ``aura backups list``, ``aura restore``.

A backup is a folder holding a consistent copy of the database (SQLite's online backup API, or
``pg_dump --format=custom``), the media folder (files an earlier backup holds are hard-linked),
and a manifest with every file's size and sha256. See ``archive`` for the layout and
``docs/deploy/BACKUPS.md`` for the operator's side.

The functions here take plain values, return dataclasses and raise BackupRefused (the backup
cannot be used, one-line reason), BackupBusy and BackupFailed.
"""

import os

from aura.services.backups import archive
from aura.services.backups.checking import (
    BackupInfo,
    VerifyReport,
    list_backups,
    newest_age,
    verify,
)
from aura.services.backups.errors import BackupBusy, BackupFailed, BackupRefused
from aura.services.backups.making import BackupResult, create
from aura.services.backups.progress import Progress, ProgressCallback
from aura.services.backups.restoring import RestoreResult, inspect, restore
from aura.services.backups.retention import prune as _prune


def running(dest: str) -> bool:
    """Whether a backup is being made in ``dest`` right now (by any process)."""
    return os.path.isdir(dest) and archive.busy(dest)


def prune(dest: str, keep_daily: int, keep_weekly: int) -> list[str]:
    """Apply the retention policy to ``dest`` without making a backup; the deleted names."""
    dest = os.path.abspath(dest)
    with archive.locked(dest):
        return _prune(dest, keep_daily, keep_weekly)


__all__ = [
    "BackupBusy",
    "BackupFailed",
    "BackupInfo",
    "BackupRefused",
    "BackupResult",
    "Progress",
    "ProgressCallback",
    "RestoreResult",
    "VerifyReport",
    "create",
    "inspect",
    "list_backups",
    "newest_age",
    "prune",
    "restore",
    "running",
    "verify",
]
