"""Media in a folder (``AURA_MEDIA_DIR``): the default storage.

An upload is written straight into the media folder under a random temporary name while it
arrives (hashed on the way, so the process never holds the file in memory), then made durable
(fsync, rename to its storage key). The name the browser sent never becomes a path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from typing import IO

from aura.errors import StorageFull
from aura.services.storage import (
    OCTET_STREAM,
    Sniff,
    Step,
    Storage,
    Upload,
    checked_name,
    copy_hashed,
    fsync_dir,
    is_name,
)

TEMP_PREFIX = ".upload-"
TEMP_SUFFIX = ".part"
DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
FULL_MESSAGE = (
    "The disk that holds this site's media is full, so nothing was stored. Free some space "
    "(or ask whoever runs this site to), then upload again."
)


@contextlib.contextmanager
def _space() -> Iterator[None]:
    """A full disk (or quota) while writing media is StorageFull (507), not an OSError."""
    try:
        yield
    except OSError as error:
        if error.errno in DISK_FULL:
            raise StorageFull(FULL_MESSAGE) from error
        raise


def is_upload_temp(name: str) -> bool:
    """Whether a file name is an upload still arriving (or abandoned): never a stored file."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def stored_files(directory: str) -> Iterator[tuple[str, int]]:
    """Every stored file under the media folder as (relative path with "/", size), sorted.

    Videos and thumbnails sit at the top by storage key; any subfolder (captions, later) is
    walked too. Upload temp files and anything that is not a regular file are left out.
    """
    for root, folders, files in os.walk(directory):
        folders.sort()
        for name in sorted(files):
            if is_upload_temp(name):
                continue
            path = os.path.join(root, name)
            try:
                info = os.lstat(path)
            except FileNotFoundError:  # removed while we walked
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            relative = os.path.relpath(path, directory).replace(os.sep, "/")
            yield relative, info.st_size


class UploadSpool(Upload):
    """One uploaded file being written into the media folder under a random temporary name.

    ``keep()`` makes it durable under its storage key; closing it without keeping removes it.
    """

    def __init__(self, directory: str) -> None:
        super().__init__()
        os.makedirs(directory, exist_ok=True)
        fd, self.path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=directory)
        self._file = os.fdopen(fd, "w+b")
        self.kept_path: str | None = None

    def write(self, data: bytes) -> int:
        self._count(data)
        with _space():
            return self._file.write(data)

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def flush(self) -> None:
        with _space():
            self._file.flush()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return self._file.closed

    def keep(self, key: str | None = None) -> str:
        """Write the file to disk for good under its key: fsync, rename, fsync the folder."""
        self.key = checked_name(key or self.key)
        with _space():
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        directory = os.path.dirname(self.path)
        final = os.path.join(directory, self.key)
        os.rename(self.path, final)
        self.kept_path = final
        self.kept = True
        fsync_dir(directory)
        return final

    def close(self) -> None:
        try:
            if not self._file.closed:
                # Closing flushes what is buffered: on a full disk that fails, and the file
                # goes anyway.
                with contextlib.suppress(OSError):
                    self._file.close()
        finally:
            if self.kept_path is None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)


class LocalStorage(Storage):
    kind = "local"

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def path(self, name: str) -> str:
        """The path of a stored file; names are Aura's own, checked again here."""
        return os.path.join(self.directory, *checked_name(name).split("/"))

    def new_upload(self, sniff: Sniff = None) -> UploadSpool:
        return UploadSpool(self.directory)

    def _write_durably(self, name: str, write) -> tuple[str, int] | None:
        final = self.path(name)
        directory = os.path.dirname(final)
        os.makedirs(directory, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=directory)
        try:
            with _space(), os.fdopen(fd, "wb") as fh:
                result = write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.rename(temp, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        fsync_dir(directory)
        return result

    def put_bytes(self, name: str, data: bytes, content_type: str = OCTET_STREAM) -> None:
        self._write_durably(name, lambda fh: fh.write(data))

    def write_from(
        self, name: str, source: IO[bytes], step: Step = None, sniff: Sniff = None
    ) -> tuple[str, int]:
        result = self._write_durably(name, lambda fh: copy_hashed(source, fh, step))
        assert result is not None
        return result

    def open(self, name: str) -> IO[bytes]:
        return open(self.path(name), "rb")

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(name))

    def stored(self) -> Iterator[tuple[str, int]]:
        if not os.path.isdir(self.directory):
            return
        for name, size in stored_files(self.directory):
            if is_name(name):
                yield name, size

    def size(self, name: str) -> int | None:
        try:
            return os.stat(self.path(name)).st_size
        except FileNotFoundError:
            return None

    def purge_stale_uploads(self, older_than: float) -> int:
        if not os.path.isdir(self.directory):
            return 0
        cutoff = time.time() - older_than
        removed = 0
        for entry in os.scandir(self.directory):
            if not (entry.name.startswith(TEMP_PREFIX) and entry.is_file()):
                continue
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
