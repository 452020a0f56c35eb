"""What a backup is on disk: its folder name, manifest, verification record, and file helpers.

A backup is one folder in the backup folder (DEST), named by its UTC creation time so names
sort by age::

    aura-20261201T073000Z/
        manifest.json        Aura version, database kind and migration heads, created-at,
                             and the path, size and sha256 of every other file
        database/aura.sqlite3  or  database/aura.pgdump
        media/<storage key>  ... and any subfolder of the media folder
        verified.json        written by verification: when, and the outcome

It is written as ``.incomplete-<name>`` and renamed when complete, so a folder with a
backup's name and a manifest is a finished backup; one being deleted is renamed
``.deleting-<name>`` first.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aura import models  # noqa: F401  (every table is on the metadata)
from aura.extensions import db
from aura.services.backups.errors import BackupBusy, BackupRefused
from aura.services.storage import copy_hashed, fsync_dir

FORMAT = 1
PREFIX = "aura-"
INCOMPLETE = ".incomplete-"
DELETING = ".deleting-"
MANIFEST = "manifest.json"
VERIFIED = "verified.json"
LOCK = ".aura-backup.lock"
DATABASE = "database"
MEDIA = "media"
NAME = re.compile(r"aura-(\d{8}T\d{6}Z)(?:-(\d+))?")
STAMP = "%Y%m%dT%H%M%SZ"
CHUNK = 1024 * 1024


def aura_tables() -> list[str]:
    """Aura's tables, parents first, and Alembic's."""
    return [table.name for table in db.metadata.sorted_tables] + ["alembic_version"]


@dataclass(frozen=True)
class Contents:
    """What a database copy holds: its migration heads and how many rows each table has.

    Taken from the same snapshot the copy is made from, so a restored copy must match it.
    """

    heads: tuple[str, ...]
    tables: dict[str, int]

    def refuse_unless_in(self, found: Contents, name: str) -> None:
        """BackupRefused unless ``found`` (a restored copy) holds what this says."""
        if found.heads != self.heads:
            raise BackupRefused(
                f"Backup {name} is damaged: its database is at migration "
                f"{', '.join(found.heads) or 'none'}, its manifest says {', '.join(self.heads)}."
            )
        for table, rows in self.tables.items():
            if table not in found.tables:
                raise BackupRefused(f"Backup {name} is damaged: its database has no {table} table.")
            if found.tables[table] != rows:
                raise BackupRefused(
                    f"Backup {name} is damaged: its database has {found.tables[table]} rows in "
                    f"{table}, its manifest says {rows}."
                )


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the backup folder, "/"-separated
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    name: str
    created_at: datetime
    aura_version: str
    database_kind: str
    database_file: str
    migration_heads: tuple[str, ...]
    files: tuple[FileEntry, ...]
    tables: dict[str, int] = field(default_factory=dict)

    @property
    def contents(self) -> Contents:
        return Contents(self.migration_heads, self.tables)

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files)

    @property
    def media(self) -> tuple[FileEntry, ...]:
        return tuple(entry for entry in self.files if entry.path.startswith(MEDIA + "/"))

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "name": self.name,
            "aura_version": self.aura_version,
            "created_at": iso(self.created_at),
            "database": {
                "kind": self.database_kind,
                "file": self.database_file,
                "migration_heads": list(self.migration_heads),
                "tables": self.tables,
            },
            "files": [
                {"path": entry.path, "size": entry.size, "sha256": entry.sha256}
                for entry in self.files
            ],
        }

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown manifest format {data.get('format')!r}")
        database = data["database"]
        files = tuple(
            FileEntry(str(item["path"]), int(item["size"]), str(item["sha256"]))
            for item in data["files"]
        )
        for entry in files:
            if not safe_relative(entry.path):
                raise ValueError(f"unsafe path {entry.path!r}")
        return cls(
            name=str(data["name"]),
            created_at=parse_iso(data["created_at"]),
            aura_version=str(data["aura_version"]),
            database_kind=str(database["kind"]),
            database_file=str(database["file"]),
            migration_heads=tuple(str(head) for head in database["migration_heads"]),
            files=files,
            tables={str(table): int(rows) for table, rows in database["tables"].items()},
        )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def safe_relative(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def new_name(dest: str, now: datetime) -> str:
    """A free backup name for ``now``; a second backup in the same second gets ``-1``, ``-2``."""
    base = PREFIX + now.astimezone(UTC).strftime(STAMP)
    name, number = base, 0
    while any(os.path.lexists(os.path.join(dest, p + name)) for p in ("", INCOMPLETE, DELETING)):
        number += 1
        name = f"{base}-{number}"
    return name


def time_of_name(name: str) -> datetime | None:
    match = NAME.fullmatch(name)
    if not match:
        return None
    return datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC)


def read_manifest(path: str) -> Manifest:
    """The manifest of the backup at ``path``; BackupRefused if it is not a complete backup."""
    name = os.path.basename(os.path.normpath(path))
    if name.startswith((INCOMPLETE, DELETING)):
        raise BackupRefused(f"Backup {name} is incomplete (it was never finished).")
    if not os.path.isdir(path):
        raise BackupRefused(f"There is no backup at {path}.")
    try:
        with open(os.path.join(path, MANIFEST), encoding="utf-8") as fh:
            return Manifest.from_json(json.load(fh))
    except FileNotFoundError:
        raise BackupRefused(f"Backup {name} is incomplete: it has no {MANIFEST}.") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupRefused(f"Backup {name} has an unreadable {MANIFEST} ({error}).") from None


def manifest_sha256(path: str) -> str | None:
    try:
        return hash_file(os.path.join(path, MANIFEST))[0]
    except OSError:
        return None


def backup_folders(dest: str) -> list[str]:
    """The names of the folders in ``dest`` named like backups, oldest first."""
    try:
        names = [entry.name for entry in os.scandir(dest) if entry.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []
    return sorted((name for name in names if NAME.fullmatch(name)), key=sort_key)


def sort_key(name: str) -> tuple[str, int]:
    match = NAME.fullmatch(name)
    assert match is not None
    return match.group(1), int(match.group(2) or 0)


def complete_backups(dest: str) -> list[tuple[str, Manifest]]:
    """(name, manifest) of every finished backup in ``dest``, oldest first."""
    found = []
    for name in backup_folders(dest):
        with contextlib.suppress(BackupRefused):
            found.append((name, read_manifest(os.path.join(dest, name))))
    return found


# -- files ---------------------------------------------------------------------------------------


def hash_file(path: str, step: Callable[[int], None] | None = None) -> tuple[str, int]:
    """(sha256, size) of a file, read in chunks; ``step`` is told each chunk's length."""
    with open(path, "rb") as fh:
        return copy_hashed(fh, None, step)


def copy_file(src: str, dst: str, step: Callable[[int], None] | None = None) -> tuple[str, int]:
    """Copy ``src`` to a new file ``dst`` (fsynced), hashing on the way: (sha256, size)."""
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(src, "rb") as source, open(dst, "xb") as target:
        found = copy_hashed(source, target, step)
        target.flush()
        os.fsync(target.fileno())
    shutil.copystat(src, dst)
    return found


def try_link(existing: str, dst: str) -> bool:
    """Hard-link ``existing`` as ``dst``; False where the filesystem will not (then copy)."""
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    try:
        os.link(existing, dst)
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.EMLINK, errno.EPERM, errno.ENOTSUP):
            raise
        return False
    return True


def fsync_tree(root: str) -> None:
    """Make every folder entry under ``root`` durable (the files were fsynced when written)."""
    for folder, _dirs, _files in os.walk(root, topdown=False):
        fsync_dir(folder)


def write_json(path: str, data: dict) -> None:
    """Write ``data`` to ``path`` whole or not at all: a temp file, fsync, rename."""
    temp = f"{path}.tmp-{os.getpid()}"
    with open(temp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, path)
    fsync_dir(os.path.dirname(path))


def files_in(root: str) -> Iterator[str]:
    """Every entry under ``root`` that is not a folder, as "/"-separated relative paths."""
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        # A symlinked folder is not walked into: it is listed, and refused, as an extra entry.
        names = sorted(files) + [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        for name in names:
            yield os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")


def remove_backup(dest: str, name: str) -> None:
    """Delete a backup so that it never looks complete while going: rename, then remove."""
    doomed = os.path.join(dest, DELETING + name)
    os.rename(os.path.join(dest, name), doomed)
    fsync_dir(dest)
    shutil.rmtree(doomed)


@contextlib.contextmanager
def locked(dest: str) -> Iterator[None]:
    """Hold the backup folder's lock: one backup (or pruning) at a time in one folder."""
    fd = os.open(os.path.join(dest, LOCK), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupBusy(f"Another backup is running in {dest}.") from None
        yield
    finally:
        os.close(fd)


def busy(dest: str) -> bool:
    """Whether a backup (or pruning) holds the folder's lock right now, in any process."""
    path = os.path.join(dest, LOCK)
    if not os.path.exists(path):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def remove_leftovers(dest: str) -> None:
    """Remove what an interrupted backup or deletion left (call only while holding the lock)."""
    for entry in os.scandir(dest):
        if entry.name.startswith((INCOMPLETE, DELETING)) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
