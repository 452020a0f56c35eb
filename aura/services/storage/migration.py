"""``aura media migrate --to s3|local``: copy the media the database names into the other
storage, checked by sha256, resumable.

Every file a row names is copied: each video (its row's sha256 must match what is read, else it
is refused and not copied), its thumbnail and its captions. A file the target already holds
with the same sha256 is skipped, so an interrupted run picks up where it stopped. Each copy is
read back from the target and hashed before it counts. Both storages use the same names (the
storage keys), so no row changes: once a run reports nothing refused or missing, switching
``AURA_MEDIA_STORAGE`` makes the site serve from the target. The source is left as it was.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from aura.errors import Invalid
from aura.extensions import db
from aura.models import Caption, Video
from aura.services import media
from aura.services import storage as storages
from aura.services.storage import Storage, caption_name, is_name

log = logging.getLogger(__name__)
KINDS = ("local", "s3")
Echo = Callable[[str], object] | None


@dataclass
class MigrationReport:
    source: str
    target: str
    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0  # already in the target with the same sha256
    refused: list[str] = field(default_factory=list)  # "name: why"
    missing: list[str] = field(default_factory=list)  # named by a row, absent from the source

    @property
    def complete(self) -> bool:
        return not self.refused and not self.missing

    def summary(self) -> str:
        line = (
            f"Media {self.source} -> {self.target}: {self.copied} copied "
            f"({self.copied_bytes:,} bytes), {self.skipped} already there with the same sha256, "
            f"{len(self.refused)} refused, {len(self.missing)} missing."
        )
        if self.complete:
            return line + f" Set AURA_MEDIA_STORAGE={self.target} to serve from it."
        return line + f" Fix those before setting AURA_MEDIA_STORAGE={self.target}."


def _wanted() -> Iterator[tuple[str, str | None]]:
    """(name, sha256 the database recorded, if any) of every file a row names."""
    for key, sha256, thumbnail in db.session.execute(
        sa.select(Video.storage_key, Video.sha256, Video.thumbnail_key).order_by(Video.id)
    ):
        yield key, sha256
        if thumbnail:
            yield thumbnail, None
    for (key,) in db.session.execute(sa.select(Caption.storage_key).order_by(Caption.id)):
        yield caption_name(key), None


def _copy(
    name: str, expected: str | None, source: Storage, target: Storage, report: MigrationReport
) -> None:
    if target.size(name) is not None:
        there, _size = target.sha256(name)
        if expected is None:
            expected = source.sha256(name)[0]
        if there == expected:
            report.skipped += 1
            return
    with source.open(name) as fh:
        sha256, size = target.write_from(name, fh, sniff=media.sniffer_for(name))
    if expected is not None and sha256 != expected:
        with contextlib.suppress(Exception):
            target.delete(name)
        report.refused.append(f"{name}: its sha256 is {sha256}, the database says {expected}")
        return
    read_back, _size = target.sha256(name)
    if read_back != sha256:
        with contextlib.suppress(Exception):
            target.delete(name)
        report.refused.append(f"{name}: the copy in {target.kind} reads back differently")
        return
    report.copied += 1
    report.copied_bytes += size


def migrate(to: str, echo: Echo = None) -> MigrationReport:
    """Copy every stored file the database names into the ``to`` storage (see the module's
    docstring). Invalid for an unknown kind or an unconfigured bucket."""
    if to not in KINDS:
        raise Invalid(f"Media can move to {' or '.join(KINDS)}, not {to!r}.")
    source_kind = "local" if to == "s3" else "s3"
    try:
        source, target = storages.of_kind(source_kind), storages.of_kind(to)
    except SystemExit as refused:
        raise Invalid(str(refused)) from None
    report = MigrationReport(source_kind, to)
    for name, expected in list(_wanted()):
        if not is_name(name):
            report.refused.append(f"{name}: not a storage key Aura made")
            continue
        try:
            _copy(name, expected, source, target, report)
        except FileNotFoundError:
            report.missing.append(name)
        if echo:
            echo(name)
    return report
