"""Restoring a backup over the live site: check everything first, build the new database and
media folder beside the live ones, then swap them in; the old ones stay aside until both swaps
have worked. Anything refused or failed before the swap leaves the live site as it was.

The backup's database is brought to this code's newest migration *before* the swap, so the
site never starts on an old schema, and a migration that fails changes nothing live.

With media in a bucket, the backup's files are put back into the bucket before the swap (each
checked against its sha256; one already there with the same sha256 is left alone), and the
objects the restored backup does not hold are deleted after it. A restore that fails before
the swap deletes what it added.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from aura.models import utcnow
from aura.services import media
from aura.services.backups import archive, kinds
from aura.services.backups.archive import Manifest
from aura.services.backups.checking import VerifyReport, check_files, record
from aura.services.backups.errors import BackupRefused
from aura.services.backups.making import record_event
from aura.services.backups.progress import Meter, ProgressCallback
from aura.services.storage import Storage, is_name
from aura.services.storage.local import LocalStorage


@dataclass(frozen=True)
class RestoreResult:
    name: str
    created_at: datetime
    database_kind: str  # of the backup
    converted: bool  # rows copied across from the other database kind
    migrated_from: tuple[str, ...]  # the backup's migration heads
    migrated_to: tuple[str, ...]  # this code's heads, which the site is at now
    media_files: int
    media_bytes: int


def inspect(src: str) -> Manifest:
    """The manifest of the backup at ``src`` (BackupRefused if it is not a finished backup)."""
    return archive.read_manifest(os.path.abspath(src))


def refuse_incompatible(manifest: Manifest, live_kind: str, convert: bool) -> None:
    name = manifest.name
    kinds.kind_of(manifest)
    if manifest.database_kind != live_kind and not convert:
        raise BackupRefused(
            f"Backup {name} holds a {kinds.LABELS[manifest.database_kind]} database and this "
            f"site runs {kinds.LABELS[live_kind]}: pass --convert to copy its rows across."
        )
    unknown = sorted(set(manifest.migration_heads) - kinds.known_revisions())
    if unknown:
        raise BackupRefused(
            f"Backup {name} comes from a newer Aura (its migration {unknown[0]} is unknown "
            "here): upgrade Aura first."
        )


def restore(
    src: str, *, convert: bool = False, progress: ProgressCallback | None = None
) -> RestoreResult:
    """Replace the site's database and media folder with the backup at ``src``.

    Refuses (BackupRefused, one-line message) a backup that is damaged, unfinished, made by
    a newer Aura, or of the other database kind unless ``convert`` is True (its rows are then
    copied table by table into a freshly migrated database). Raises BackupBusy while another
    connection uses the live database: stop Aura's servers and workers first.
    """
    src = os.path.abspath(src)
    manifest = archive.read_manifest(src)
    name = manifest.name
    url = kinds.live_url()
    live_kind = kinds.kind_name(url)
    live = kinds.KINDS[live_kind]
    try:
        check_files(src, manifest, progress)
    except BackupRefused as refused:
        _record_failure(src, manifest, refused)
        raise
    refuse_incompatible(manifest, live_kind, convert)
    converted = manifest.database_kind != live_kind
    media_root = current_app.config["MEDIA_DIR"]
    storage = media.current()
    remote = not isinstance(storage, LocalStorage)
    stamp = utcnow().strftime(archive.STAMP)
    dump_path = os.path.join(src, *manifest.database_file.split("/"))
    kinds.release_live_connections()
    staged = staged_media = None
    added: list[str] = []
    media_aside = None
    try:
        try:
            if converted:
                from aura.services.backups.convert import convert_database

                staged = convert_database(manifest, dump_path, url, stamp)
            else:
                staged = live.stage(dump_path, name, manifest.contents, url, stamp)
        except BackupRefused as refused:
            _record_failure(src, manifest, refused)
            raise
        record(src, _passed(src, manifest))
        kinds.migrate_to_head(staged.url)
        if remote:
            put_back_media(storage, src, manifest, progress, added)
            swapped = live.swap(staged, url, stamp)
        else:
            staged_media = stage_media(src, manifest, media_root, stamp, progress)
            swapped = live.swap(staged, url, stamp)
            try:
                media_aside = swap_media(staged_media, media_root, stamp)
            except BaseException:
                swapped.undo()
                raise
    except BaseException:
        if staged is not None:
            staged.discard()
        if staged_media is not None:
            shutil.rmtree(staged_media, ignore_errors=True)
        media.remove(*added)
        raise
    kinds.release_live_connections()
    swapped.finish()
    if media_aside:
        shutil.rmtree(media_aside, ignore_errors=True)
    if remote:
        remove_unknown_media(storage, manifest)
    result = RestoreResult(
        name=name,
        created_at=manifest.created_at,
        database_kind=manifest.database_kind,
        converted=converted,
        migrated_from=manifest.migration_heads,
        migrated_to=kinds.code_heads(),
        media_files=len(manifest.media),
        media_bytes=sum(entry.size for entry in manifest.media),
    )
    record_event(
        "backup.restore",
        name,
        {
            "source": src,
            "created_at": archive.iso(manifest.created_at),
            "converted": converted,
            "migrated_from": list(result.migrated_from),
        },
    )
    return result


def _passed(src: str, manifest: Manifest) -> VerifyReport:
    return VerifyReport(
        manifest.name, src, True, None, len(manifest.files), manifest.total_bytes,
        manifest.database_kind, utcnow(),
    )  # fmt: skip


def _record_failure(src: str, manifest: Manifest, refused: BackupRefused) -> None:
    record(
        src,
        VerifyReport(manifest.name, src, False, refused.message, 0, 0, manifest.database_kind,
                     utcnow()),
    )  # fmt: skip


def stage_media(
    src: str, manifest: Manifest, media_root: str, stamp: str, progress: ProgressCallback | None
) -> str:
    """Copy the backup's media into a new folder beside the live one, checking each sha256."""
    parent = os.path.dirname(os.path.abspath(media_root))
    os.makedirs(parent, exist_ok=True)
    staged = os.path.join(parent, f".{os.path.basename(media_root)}.restore-{stamp}")
    os.mkdir(staged)
    try:
        entries = manifest.media
        meter = Meter(progress, "media", len(entries), sum(entry.size for entry in entries))
        for entry in entries:
            parts = entry.path.split("/")
            sha256, _size = archive.copy_file(
                os.path.join(src, *parts), os.path.join(staged, *parts[1:]), meter.step
            )
            if sha256 != entry.sha256:
                raise BackupRefused(f"Backup {manifest.name} changed while being restored.")
            meter.file_done()
        archive.fsync_tree(staged)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return staged


def _media_name(entry_path: str) -> str:
    return entry_path.split("/", 1)[1]


def put_back_media(
    storage: Storage,
    src: str,
    manifest: Manifest,
    progress: ProgressCallback | None,
    added: list[str],
) -> None:
    """Upload the backup's media into the bucket, checking each sha256; ``added`` collects the
    names put there (for the caller to delete if the restore fails)."""
    entries = [entry for entry in manifest.media if is_name(_media_name(entry.path))]
    meter = Meter(progress, "media", len(entries), sum(entry.size for entry in entries))
    for entry in entries:
        name = _media_name(entry.path)
        if storage.size(name) == entry.size and storage.sha256(name)[0] == entry.sha256:
            meter.step(entry.size)
            meter.file_done()
            continue
        with open(os.path.join(src, *entry.path.split("/")), "rb") as fh:
            sha256, _size = storage.write_from(name, fh, meter.step, media.sniffer_for(name))
        added.append(name)
        if sha256 != entry.sha256:
            raise BackupRefused(f"Backup {manifest.name} changed while being restored.")
        meter.file_done()


def remove_unknown_media(storage: Storage, manifest: Manifest) -> int:
    """Delete the bucket's objects the restored backup does not hold (the replaced media)."""
    wanted = {_media_name(entry.path) for entry in manifest.media}
    unknown = [name for name, _size in storage.stored() if name not in wanted]
    media.remove(*unknown)
    return len(unknown)


def swap_media(staged: str, media_root: str, stamp: str) -> str | None:
    """Rename the live media folder aside and the staged one into its place."""
    media_root = os.path.abspath(media_root)
    aside = None
    if os.path.lexists(media_root):
        aside = f"{media_root}.before-restore-{stamp}"
        os.rename(media_root, aside)
    try:
        os.rename(staged, media_root)
    except BaseException:
        if aside:
            os.rename(aside, media_root)
        raise
    archive.fsync_dir(os.path.dirname(media_root))
    return aside


def database_heads(url: sa.URL | str) -> tuple[str, ...]:
    """The migration heads a database is at (for reports and tests)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            return tuple(sorted(row[0] for row in rows))
    finally:
        engine.dispose()
