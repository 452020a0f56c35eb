"""Checking a backup (every file's size and sha256, then a trial restore of its database),
and what the backup folder holds, for ``aura backups list`` and the supervisor's page."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from aura.models import utcnow
from aura.services.backups import archive, kinds
from aura.services.backups.archive import Manifest
from aura.services.backups.errors import BackupRefused
from aura.services.backups.progress import Meter, ProgressCallback


@dataclass(frozen=True)
class VerifyReport:
    name: str
    path: str
    ok: bool
    reason: str | None  # one line, when not ok
    files: int
    bytes: int
    database_kind: str | None
    checked_at: datetime


@dataclass(frozen=True)
class BackupInfo:
    name: str
    path: str
    created_at: datetime | None
    complete: bool
    problem: str | None  # why it is not a usable backup, one line
    size: int
    files: int
    database_kind: str | None
    aura_version: str | None
    verified: bool | None  # None: never verified (or verified before its manifest changed)
    verified_at: datetime | None
    verify_reason: str | None

    def age(self, now: datetime | None = None) -> timedelta | None:
        return None if self.created_at is None else (now or utcnow()) - self.created_at


def check_files(path: str, manifest: Manifest, progress: ProgressCallback | None = None) -> None:
    """Refuse a backup with a missing, extra, resized or changed file (BackupRefused)."""
    name = manifest.name
    expected = {entry.path: entry for entry in manifest.files}
    if manifest.database_file not in expected:
        raise BackupRefused(f"Backup {name} is damaged: its manifest lists no database file.")
    present = {
        relative
        for relative in archive.files_in(path)
        if relative not in (archive.MANIFEST, archive.VERIFIED)
        and not relative.startswith(archive.VERIFIED + ".tmp-")
    }
    _refuse_difference(name, "is missing", sorted(set(expected) - present))
    _refuse_difference(name, "is not in its manifest", sorted(present - set(expected)))
    for entry in manifest.files:
        full = os.path.join(path, *entry.path.split("/"))
        size = os.lstat(full).st_size if os.path.isfile(full) else None
        if size != entry.size:
            what = "not a file" if size is None else f"{size} bytes"
            cut = " (truncated)" if size is not None and size < entry.size else ""
            raise BackupRefused(
                f"Backup {name} is damaged: {entry.path} is {what}, its manifest says "
                f"{entry.size}{cut}."
            )
    meter = Meter(progress, "verify", len(manifest.files), manifest.total_bytes)
    for entry in manifest.files:
        full = os.path.join(path, *entry.path.split("/"))
        if archive.hash_file(full, meter.step)[0] != entry.sha256:
            raise BackupRefused(
                f"Backup {name} is damaged: {entry.path} does not match its sha256."
            )
        meter.file_done()


def _refuse_difference(name: str, what: str, paths: list[str]) -> None:
    if paths:
        more = f" (and {len(paths) - 1} more)" if len(paths) > 1 else ""
        raise BackupRefused(f"Backup {name} is damaged: {paths[0]} {what}{more}.")


def check_database(path: str, manifest: Manifest) -> None:
    """Restore the backup's database into a scratch place and check it (BackupRefused)."""
    kind = kinds.kind_of(manifest)
    kind.check(
        os.path.join(path, *manifest.database_file.split("/")),
        manifest.name,
        manifest.contents,
        server=kinds.scratch_server(manifest.database_kind),
    )


def record(path: str, report: VerifyReport) -> None:
    """Write ``verified.json`` beside the manifest (best effort: the backup may be read-only)."""
    data = {
        "checked_at": archive.iso(report.checked_at),
        "ok": report.ok,
        "reason": report.reason,
        "manifest_sha256": archive.manifest_sha256(path),
    }
    with contextlib.suppress(OSError):
        archive.write_json(os.path.join(path, archive.VERIFIED), data)


def verify(path: str, *, progress: ProgressCallback | None = None) -> VerifyReport:
    """Check the backup at ``path`` and record the outcome in its ``verified.json``.

    Every file's size and sha256 against the manifest, no missing or extra file, and a trial
    restore of its database in a scratch place (SQLite: ``PRAGMA integrity_check``;
    PostgreSQL: ``pg_restore --list`` and a restore into a scratch database), with the
    migration heads the manifest names. A failed check is a report with ``ok`` False and a
    one-line ``reason``; BackupFailed is raised only when the check itself cannot run.
    """
    path = os.path.abspath(path)
    name = os.path.basename(path)
    try:
        manifest = archive.read_manifest(path)
    except BackupRefused as refused:
        return VerifyReport(name, path, False, refused.message, 0, 0, None, utcnow())
    try:
        check_files(path, manifest, progress)
        check_database(path, manifest)
    except BackupRefused as refused:
        report = VerifyReport(
            name, path, False, refused.message, 0, 0, manifest.database_kind, utcnow()
        )
    else:
        report = VerifyReport(
            name,
            path,
            True,
            None,
            len(manifest.files),
            manifest.total_bytes,
            manifest.database_kind,
            utcnow(),
        )
    record(path, report)
    return report


def _verification(path: str) -> tuple[bool | None, datetime | None, str | None]:
    try:
        with open(os.path.join(path, archive.VERIFIED), encoding="utf-8") as fh:
            data = json.load(fh)
        if data.get("manifest_sha256") != archive.manifest_sha256(path):
            return None, None, None
        return bool(data["ok"]), archive.parse_iso(data["checked_at"]), data.get("reason")
    except (OSError, ValueError, KeyError, TypeError):
        return None, None, None


_NOTHING = (0, 0, None, None, None, None, None)


def list_backups(dest: str | None = None) -> list[BackupInfo]:
    """Every folder in ``dest`` (default ``AURA_BACKUP_DIR``) named like a backup, newest first.

    Unfinished backups (``.incomplete-…``) are not listed; a backup-named folder without a
    usable manifest is, with its ``problem``. Verification status is read, not re-checked.
    """
    dest = os.path.abspath(dest or current_app.config["BACKUP_DIR"])
    found = []
    for name in reversed(archive.backup_folders(dest)):
        path = os.path.join(dest, name)
        try:
            manifest = archive.read_manifest(path)
        except BackupRefused as refused:
            created = archive.time_of_name(name)
            found.append(BackupInfo(name, path, created, False, refused.message, *_NOTHING))
            continue
        verified, verified_at, reason = _verification(path)
        found.append(
            BackupInfo(
                name=name,
                path=path,
                created_at=manifest.created_at,
                complete=True,
                problem=None,
                size=manifest.total_bytes,
                files=len(manifest.files),
                database_kind=manifest.database_kind,
                aura_version=manifest.aura_version,
                verified=verified,
                verified_at=verified_at,
                verify_reason=reason,
            )
        )
    return found


def newest_age(
    dest: str | None = None, *, verified: bool = False, now: datetime | None = None
) -> timedelta | None:
    """How old the newest finished (with ``verified``: verified) backup in ``dest`` is; None
    when there is none. The supervisor's page compares it with ``AURA_BACKUP_MAX_AGE_HOURS``.
    """
    ages = [
        info.age(now)
        for info in list_backups(dest)
        if info.complete and (info.verified or not verified)
    ]
    return min((age for age in ages if age is not None), default=None)
