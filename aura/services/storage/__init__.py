"""Where media lives: the media folder (``local``, the default) or an S3-compatible bucket
(``s3``), chosen by ``AURA_MEDIA_STORAGE``. ``aura.services.media`` is the one caller: every
upload, thumbnail, caption, delete, stream, backup and migration goes through it to a
``Storage``.

Both kinds store the same names: a video or thumbnail under its storage key (32 hex digits,
random, never the upload's name) and a caption under ``captions/<key>.vtt``. So a backup's
``media/`` folder, a migration between the two and the rows naming the files are the same
whichever storage holds them. A name is written once and never rewritten with other bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from flask import current_app

from aura.errors import NotFound

SNIFF_BYTES = 4096
CAPTIONS = "captions"  # the folder (or name prefix) of caption files
NAME = re.compile(r"[0-9a-f]{32}|captions/[0-9a-f]{32}\.vtt", re.ASCII)
KEY = re.compile(r"[0-9a-f]{32}", re.ASCII)
CHUNK = 1024 * 1024
Step = Callable[[int], None] | None
Sniff = Callable[[bytes], str | None] | None
OCTET_STREAM = "application/octet-stream"


def copy_hashed(
    source: IO[bytes], target: IO[bytes] | None = None, step: Step = None
) -> tuple[str, int]:
    """Read ``source`` to its end in chunks, hashing (and writing each chunk to ``target``,
    when given): (sha256, size). ``step`` is told each chunk's length."""
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        if target is not None:
            target.write(chunk)
        size += len(chunk)
        if step:
            step(len(chunk))
    return digest.hexdigest(), size


def fsync_dir(directory: str) -> None:
    """Make a folder's entries (a rename, a new file) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def new_key() -> str:
    return secrets.token_hex(16)


def is_name(name: str) -> bool:
    return bool(NAME.fullmatch(name or ""))


def checked_name(name: str, missing: str = "The video file is missing.") -> str:
    """``name`` if it is one of Aura's own names, else NotFound: nothing else is ever opened."""
    if not is_name(name):
        raise NotFound(missing)
    return name


def caption_name(key: str) -> str:
    if not KEY.fullmatch(key or ""):
        raise NotFound("The caption file is missing.")
    return f"{CAPTIONS}/{key}.vtt"


class Upload(ABC):
    """One uploaded file arriving, under the storage key it will have if it is kept.

    It hashes and counts what is written and keeps the first bytes for sniffing, holding at
    most a bounded buffer in memory. ``keep()`` stores it for good; closing it without keeping
    leaves nothing behind (a temporary file removed, a multipart upload aborted).
    """

    def __init__(self) -> None:
        self.key = new_key()
        self.size = 0
        self.head = b""
        self.kept = False
        self._sha256 = hashlib.sha256()

    def _count(self, data: bytes) -> None:
        if len(self.head) < SNIFF_BYTES:
            self.head += bytes(data[: SNIFF_BYTES - len(self.head)])
        self._sha256.update(data)
        self.size += len(data)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @abstractmethod
    def write(self, data: bytes) -> int: ...

    @abstractmethod
    def keep(self, key: str | None = None) -> str:
        """Store the upload for good under its key; returns where it went."""

    @abstractmethod
    def close(self) -> None: ...

    # What werkzeug's form parser asks of the file it writes into.
    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:  # nothing is buffered that flushing would send
        return None

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


class Storage(ABC):
    """What Aura needs of a place that holds media files by name."""

    kind: str

    @abstractmethod
    def new_upload(self, sniff: Sniff = None) -> Upload:
        """A new upload; ``sniff`` names the content type of its first bytes, for a storage
        that records one (a bucket's objects carry it)."""

    @abstractmethod
    def put_bytes(self, name: str, data: bytes, content_type: str = OCTET_STREAM) -> None:
        """Store a small file (a caption) durably under ``name``."""

    @abstractmethod
    def open(self, name: str) -> IO[bytes]:
        """A seekable, readable file of the stored bytes; FileNotFoundError if missing."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove a stored file; a missing one is fine."""

    @abstractmethod
    def stored(self) -> Iterator[tuple[str, int]]:
        """Every stored file as (name, size), sorted by name; anything not Aura's is left out."""

    @abstractmethod
    def size(self, name: str) -> int | None:
        """The stored file's size, or None when there is none."""

    @abstractmethod
    def write_from(
        self, name: str, source: IO[bytes], step: Step = None, sniff: Sniff = None
    ) -> tuple[str, int]:
        """Store what ``source`` reads as ``name`` (replacing it), memory flat: (sha256, size).
        Nothing is left under ``name`` if it fails."""

    @abstractmethod
    def purge_stale_uploads(self, older_than: float) -> int:
        """Remove uploads abandoned longer than ``older_than`` seconds ago (a killed process)."""

    def read_bytes(self, name: str, limit: int) -> bytes:
        with self.open(name) as fh:
            return fh.read(limit)

    def sha256(self, name: str, step: Step = None) -> tuple[str, int]:
        """(sha256, size) of a stored file, read in chunks."""
        with self.open(name) as fh:
            return copy_hashed(fh, None, step)

    def copy_to_file(self, name: str, target: IO[bytes], step: Step = None) -> tuple[str, int]:
        """Write a stored file into an open file, hashing on the way: (sha256, size)."""
        with self.open(name) as fh:
            return copy_hashed(fh, target, step)


def _settings_of(config: Mapping[str, Any], kind: str) -> tuple:
    if kind == "local":
        return ("local", config["MEDIA_DIR"])
    return (
        "s3",
        config.get("S3_ENDPOINT"),
        config.get("S3_BUCKET"),
        config.get("S3_REGION", "us-east-1"),
        config.get("S3_ADDRESSING", "path"),
        config.get("S3_PART_SIZE", 8 * 1024 * 1024),
    )


def build(config: Mapping[str, Any], kind: str | None = None) -> Storage:
    """A storage of ``kind`` (default: the configured one) for these settings."""
    kind = kind or config.get("MEDIA_STORAGE", "local")
    settings = _settings_of(config, kind)
    if kind == "local":
        from aura.services.storage.local import LocalStorage

        return LocalStorage(settings[1])
    if kind == "s3":
        from aura.services.storage.s3 import S3Storage

        if not settings[2]:
            raise SystemExit("S3 storage needs AURA_S3_BUCKET (the bucket's name)")
        return S3Storage(*settings[1:])
    raise ValueError(f"unknown media storage {kind!r}")


def of_kind(kind: str) -> Storage:
    """The app's storage of ``kind``, built once per settings (boto3 clients are reusable)."""
    config = current_app.config
    key = _settings_of(config, kind)
    built = current_app.extensions.setdefault("aura_storage", {})
    found = built.get(key)
    if found is None:
        found = built[key] = build(config, kind)
    return found


def current() -> Storage:
    """The storage ``AURA_MEDIA_STORAGE`` names."""
    return of_kind(current_app.config.get("MEDIA_STORAGE", "local"))
