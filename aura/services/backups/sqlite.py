"""SQLite: an online copy through SQLite's backup API, checks, and the swap into place.

The copy is one backup step inside one read transaction: a consistent snapshot that never
blocks the site's writers (WAL). A restore writes the new file next to the live one and swaps
it in with ``os.replace`` while holding an exclusive lock, after switching the old database out
of WAL mode: SQLite itself then folds and deletes the old ``-wal`` and ``-shm`` files, and the
switch fails while any other connection (a running server) has the database open.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass

import sqlalchemy as sa

from aura.services.backups import archive
from aura.services.backups.errors import BackupBusy, BackupFailed, BackupRefused

KIND = "sqlite"
DUMP_FILE = "aura.sqlite3"
SIDE_FILES = ("-wal", "-shm", "-journal")


def database_path(url: sa.URL) -> str:
    path = url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupFailed("Only a SQLite database in a file can be backed up or restored.")
    return os.path.abspath(path)


def read_contents(connection: sqlite3.Connection) -> archive.Contents:
    """The migration heads and the row count of each of Aura's tables present."""
    present = {
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    tables = {}
    for table in archive.aura_tables():
        if table in present:
            quoted = '"' + table.replace('"', '""') + '"'
            tables[table] = connection.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]  # noqa: S608
    heads = ()
    if "alembic_version" in present:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        heads = tuple(sorted(row[0] for row in rows))
    return archive.Contents(heads, tables)


def dump(url: sa.URL, target: str) -> archive.Contents:
    """Copy the live database to ``target`` (a self-contained file); what the copy holds."""
    source = sqlite3.connect(database_path(url), timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # pages=-1: the whole database in one step, one snapshot
            contents = read_contents(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        finally:
            copy.close()
    except sqlite3.Error as error:
        raise BackupFailed(f"The SQLite backup failed: {error}.") from None
    finally:
        source.close()
    with open(target, "rb") as fh:
        os.fsync(fh.fileno())
    return contents


def check_file(path: str, name: str, expected: archive.Contents) -> None:
    """Refuse a database file that fails ``PRAGMA integrity_check`` or holds something else."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            found = read_contents(connection)
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupRefused(
            f"Backup {name} is damaged: its database cannot be read ({error})."
        ) from None
    if result != ["ok"]:
        raise BackupRefused(f"Backup {name} is damaged: integrity check says {result[0]}.")
    expected.refuse_unless_in(found, name)


@dataclass
class Staged:
    """A database file next to the live one (or in a scratch folder), not yet in use."""

    path: str
    folder: str | None = None  # a scratch folder to remove with it

    @property
    def url(self) -> str:
        return "sqlite:///" + self.path

    def discard(self) -> None:
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        for suffix in ("", *SIDE_FILES):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)


def check(dump_path: str, name: str, expected: archive.Contents, **_: object) -> None:
    """Restore the dump into a scratch folder and check it there (the backup is not opened)."""
    scratch = scratch_copy(dump_path, name, expected)
    scratch.discard()


def scratch_copy(dump_path: str, name: str, expected: archive.Contents, **_: object) -> Staged:
    folder = tempfile.mkdtemp(prefix="aura-backup-check-")
    staged = Staged(os.path.join(folder, DUMP_FILE), folder)
    try:
        archive.copy_file(dump_path, staged.path)
        check_file(staged.path, name, expected)
    except BaseException:
        staged.discard()
        raise
    return staged


def staging_path(url: sa.URL, stamp: str) -> str:
    live = database_path(url)
    return os.path.join(os.path.dirname(live), f".{os.path.basename(live)}.restore-{stamp}")


def stage(dump_path: str, name: str, expected: archive.Contents, url: sa.URL, stamp: str) -> Staged:
    """Copy the backup's database next to the live one and check it there."""
    staged = Staged(staging_path(url, stamp))
    try:
        archive.copy_file(dump_path, staged.path)
        check_file(staged.path, name, expected)
    except BaseException:
        staged.discard()
        raise
    return staged


def stage_empty(url: sa.URL, stamp: str) -> Staged:
    """A place next to the live database for a new one (migrations will create it)."""
    staged = Staged(staging_path(url, stamp))
    staged.discard()
    return staged


@dataclass
class Swapped:
    live: str
    aside: str | None

    def undo(self) -> None:
        if self.aside:
            os.replace(self.aside, self.live)
        else:
            os.unlink(self.live)
        archive.fsync_dir(os.path.dirname(self.live))

    def finish(self) -> None:
        if self.aside:
            os.unlink(self.aside)


def swap(staged: Staged, url: sa.URL, stamp: str) -> Swapped:
    """Put the staged database in place of the live one; the old one stays aside until finish."""
    live = database_path(url)
    # The new file goes in as one self-contained file, with nothing beside it.
    connection = sqlite3.connect(staged.path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()
    with open(staged.path, "rb") as fh:
        os.fsync(fh.fileno())
    if not os.path.exists(live):
        os.replace(staged.path, live)
        archive.fsync_dir(os.path.dirname(live))
        return Swapped(live, None)
    aside = f"{live}.before-restore-{stamp}"
    connection = sqlite3.connect(live, timeout=1, isolation_level=None)
    try:
        try:
            mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            connection.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError:
            mode = "busy"
        if mode != "delete":
            raise BackupBusy(
                f"The database {live} is in use: stop Aura (every server and worker) first."
            )
        # Under the exclusive lock: the old file keeps its inode under the aside name, and the
        # live name moves to the new file in one step.
        os.link(live, aside)
        os.replace(staged.path, live)
        archive.fsync_dir(os.path.dirname(live))
    finally:
        connection.close()
    return Swapped(live, aside)
