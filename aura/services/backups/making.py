"""Making a backup: the media, one consistent database copy, the manifest, the rename.

The media (the folder, or the bucket's objects) is listed before and after the database is
copied. A stored file is kept before its row is committed, and its row is deleted before the
file, so every video the database copy knows is in the second listing at the latest (unless it
was uploaded and deleted again while the database was being copied).

Media in a bucket is downloaded into the backup, hashed on the way into the manifest. An
object an earlier backup holds under the same name and size is hard-linked instead: Aura
writes a name once and never rewrites it with other bytes, so bytes are not fetched twice.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from aura.errors import Invalid
from aura.extensions import db
from aura.models import utcnow
from aura.services import audit, media
from aura.services.backups import archive, kinds, retention
from aura.services.backups.archive import FileEntry, Manifest
from aura.services.backups.progress import Meter, ProgressCallback
from aura.services.storage import Storage
from aura.services.storage.local import LocalStorage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackupResult:
    name: str
    path: str
    created_at: datetime
    database_kind: str
    migration_heads: tuple[str, ...]
    files: int
    bytes: int
    database_bytes: int
    media_files_copied: int
    media_bytes_copied: int
    media_files_linked: int
    media_bytes_linked: int
    removed: tuple[str, ...]  # older backups deleted by the retention policy

    @property
    def bytes_written(self) -> int:
        return self.database_bytes + self.media_bytes_copied


def record_event(
    action: str,
    target: str,
    detail: dict,
    actor_id: int | None = None,
    client_ip: str | None = None,
) -> None:
    """Record a backup event in the site's audit trail; committed (actor None: a command)."""
    try:
        audit.record(action, actor_id=actor_id, target=target, detail=detail, client_ip=client_ip)
        db.session.commit()
    except Exception:  # the audit must never turn a good backup into a failure
        db.session.rollback()
        log.exception("could not record %s in the audit trail", action)


class MediaCopier:
    """Copies the media into a backup, hard-linking what an earlier backup holds."""

    def __init__(
        self,
        storage: Storage,
        work: str,
        earlier: dict[str, tuple[str, int]],
        progress: ProgressCallback | None,
        earlier_names: dict[str, tuple[str, int, str]] | None = None,
    ) -> None:
        self.storage, self.work, self.earlier, self.progress = storage, work, earlier, progress
        self.source = storage.directory if isinstance(storage, LocalStorage) else None
        self.earlier_names = earlier_names or {}
        self.sizes = {size for _path, size in earlier.values()}
        self.entries: dict[str, FileEntry] = {}
        self.copied = self.copied_bytes = self.linked = self.linked_bytes = 0

    def _listing(self) -> list[tuple[str, int]]:
        if self.source is None:
            return list(self.storage.stored())
        if not os.path.isdir(self.source):
            return []
        return list(media.stored_files(self.source))

    def run(self) -> None:
        """Copy every stored file not copied yet (a second run picks up new arrivals)."""
        pending = [(p, s) for p, s in self._listing() if p not in self.entries]
        if not pending:
            return
        meter = Meter(self.progress, "media", len(pending), sum(s for _p, s in pending))
        store = self._store if self.source is not None else self._download
        for relative, size in pending:
            # A file deleted since the walk is left out: its row was deleted first.
            with contextlib.suppress(FileNotFoundError):
                self.entries[relative] = store(relative, size, meter.step)
            meter.file_done()

    def _download(self, name: str, size: int, step) -> FileEntry:
        target = os.path.join(self.work, archive.MEDIA, *name.split("/"))
        found = self.earlier_names.get(name)
        linkable = found is not None and found[1] == size and _size(found[0]) == size
        if found is not None and linkable and archive.try_link(found[0], target):
            self.linked, self.linked_bytes = self.linked + 1, self.linked_bytes + size
            if step:
                step(size)
            return FileEntry(f"{archive.MEDIA}/{name}", size, found[2])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            with open(target, "xb") as fh:
                sha256, size = self.storage.copy_to_file(name, fh, step)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
            raise
        self.copied, self.copied_bytes = self.copied + 1, self.copied_bytes + size
        return FileEntry(f"{archive.MEDIA}/{name}", size, sha256)

    def _store(self, relative: str, size: int, step) -> FileEntry:
        source = os.path.join(self.source, *relative.split("/"))
        target = os.path.join(self.work, archive.MEDIA, *relative.split("/"))
        if size in self.sizes:  # only a file of a size seen before can be the same file
            sha256, size = archive.hash_file(source, step)
            found = self.earlier.get(sha256)
            if found and _size(found[0]) == size and archive.try_link(found[0], target):
                self.linked, self.linked_bytes = self.linked + 1, self.linked_bytes + size
                return FileEntry(f"{archive.MEDIA}/{relative}", size, sha256)
            step = None  # already counted while hashing
        sha256, size = archive.copy_file(source, target, step)
        self.copied, self.copied_bytes = self.copied + 1, self.copied_bytes + size
        return FileEntry(f"{archive.MEDIA}/{relative}", size, sha256)


def _size(path: str) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def earlier_media(dest: str) -> dict[str, tuple[str, int]]:
    """sha256 -> (path, size) of the media files in the finished backups in ``dest``."""
    found: dict[str, tuple[str, int]] = {}
    for name, manifest in reversed(archive.complete_backups(dest)):  # newest first
        for entry in manifest.media:
            path = os.path.join(dest, name, *entry.path.split("/"))
            found.setdefault(entry.sha256, (path, entry.size))
    return found


def earlier_media_names(dest: str) -> dict[str, tuple[str, int, str]]:
    """media name -> (path, size, sha256) in the newest finished backup holding it."""
    found: dict[str, tuple[str, int, str]] = {}
    prefix = archive.MEDIA + "/"
    for name, manifest in reversed(archive.complete_backups(dest)):  # newest first
        for entry in manifest.media:
            path = os.path.join(dest, name, *entry.path.split("/"))
            found.setdefault(entry.path[len(prefix) :], (path, entry.size, entry.sha256))
    return found


def create(
    dest: str | None = None,
    *,
    keep_daily: int | None = None,
    keep_weekly: int | None = None,
    progress: ProgressCallback | None = None,
    actor_id: int | None = None,
    client_ip: str | None = None,
) -> BackupResult:
    """Take a consistent backup of the database and media folder into ``dest`` while the site runs.

    ``dest`` defaults to ``AURA_BACKUP_DIR``. Media files an earlier backup in ``dest`` holds
    are hard-linked, not copied. With ``keep_daily``/``keep_weekly``, older backups the
    retention policy does not keep are deleted afterwards (never the new one). ``progress``
    is called with a Progress as the work advances; ``actor_id`` and ``client_ip`` name who
    asked, in the audit trail (None from the command line). Raises BackupBusy if another
    backup is running in ``dest``, BackupFailed if the database cannot be copied.
    """
    dest = os.path.abspath(dest or current_app.config["BACKUP_DIR"])
    storage = media.current()
    media_root = current_app.config["MEDIA_DIR"]
    if storage.kind == "local" and kinds.inside(dest, media_root):
        raise Invalid(f"The backup folder {dest} is inside the media folder {media_root}.")
    url = kinds.live_url()
    kind = kinds.KINDS[kinds.kind_name(url)]
    os.makedirs(dest, exist_ok=True)
    with archive.locked(dest):
        archive.remove_leftovers(dest)
        created_at = utcnow()
        name = archive.new_name(dest, created_at)
        who = {"actor_id": actor_id, "client_ip": client_ip}
        record_event("backup.start", name, {"dest": dest}, **who)
        work = os.path.join(dest, archive.INCOMPLETE + name)
        os.mkdir(work)
        try:
            copier = MediaCopier(
                storage,
                work,
                earlier_media(dest),
                progress,
                earlier_media_names(dest) if storage.kind != "local" else None,
            )
            copier.run()
            database_file = f"{archive.DATABASE}/{kind.DUMP_FILE}"
            os.mkdir(os.path.join(work, archive.DATABASE))
            meter = Meter(progress, "database", 1, 0)
            contents = kind.dump(url, os.path.join(work, archive.DATABASE, kind.DUMP_FILE))
            sha256, size = archive.hash_file(os.path.join(work, archive.DATABASE, kind.DUMP_FILE))
            meter.bytes_total = size
            meter.step(size)
            meter.file_done()
            copier.run()
            manifest = Manifest(
                name=name,
                created_at=created_at,
                aura_version=kinds.aura_version(),
                database_kind=kind.KIND,
                database_file=database_file,
                migration_heads=contents.heads,
                files=(FileEntry(database_file, size, sha256), *copier.entries.values()),
                tables=contents.tables,
            )
            archive.write_json(os.path.join(work, archive.MANIFEST), manifest.to_json())
            archive.fsync_tree(work)
            os.rename(work, os.path.join(dest, name))
            archive.fsync_dir(dest)
        except BaseException as error:
            shutil.rmtree(work, ignore_errors=True)
            record_event("backup.failed", name, {"dest": dest, "error": str(error)[:300]}, **who)
            raise
        removed: list[str] = []
        if keep_daily is not None or keep_weekly is not None:
            removed = retention.prune(dest, keep_daily or 0, keep_weekly or 0, protect=[name])
    result = BackupResult(
        name=name,
        path=os.path.join(dest, name),
        created_at=created_at,
        database_kind=kind.KIND,
        migration_heads=contents.heads,
        files=len(manifest.files),
        bytes=manifest.total_bytes,
        database_bytes=size,
        media_files_copied=copier.copied,
        media_bytes_copied=copier.copied_bytes,
        media_files_linked=copier.linked,
        media_bytes_linked=copier.linked_bytes,
        removed=tuple(removed),
    )
    record_event(
        "backup.done",
        name,
        {
            "dest": dest,
            "files": result.files,
            "bytes": result.bytes,
            "bytes_written": result.bytes_written,
            "removed": list(result.removed),
        },
        **who,
    )
    return result
