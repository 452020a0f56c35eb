"""Video files on disk: content sniffing and storage under ``AURA_MEDIA_DIR``.

An upload is written straight into the media folder under a random temporary name while it
arrives (hashed on the way, so the process never holds the file in memory), then checked by its
first bytes and made durable (fsync, rename to a random storage name). The name the browser
sent never becomes a path.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Iterator

from flask import current_app

from aura.errors import NotFound, StorageFull
from aura.models import Video
from aura.services.streaming import MediaFile

SNIFF_BYTES = 4096
TEMP_PREFIX = ".upload-"
TEMP_SUFFIX = ".part"
STORAGE_KEY = re.compile(r"[0-9a-f]{32}")
CAPTIONS = "captions"  # the media folder's subfolder of caption files (<key>.vtt)

# ISO base media brands that are pictures or sound, not video.
NOT_VIDEO_BRANDS = {
    b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
    b"jp2 ", b"jpx ", b"crx ", b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ",
}  # fmt: skip
QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
# Top-level boxes a video file has (ISO/IEC 14496-12 and QuickTime).
TOP_LEVEL_BOXES = QUICKTIME_ATOMS | {
    b"ftyp", b"uuid", b"moof", b"mfra", b"sidx", b"ssix", b"styp", b"pdin", b"meta", b"prft",
    b"emsg", b"junk", b"PICT",
}  # fmt: skip
# What a page, a picture with script or a program carries near its start, whatever its name.
MARKUP = (b"<html", b"<!doctype", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe", b"<head")


# -- content sniffing --------------------------------------------------------------------------


def _iso_boxes_ok(head: bytes) -> bool:
    """Whether the first bytes are a chain of ISO base media boxes: a sane ``ftyp`` (printable
    brands) followed by boxes a video file has, as far as ``head`` reaches. A page that merely
    starts with an MP4 header (a polyglot) fails at its second "box"."""
    size = int.from_bytes(head[0:4], "big")
    if not 16 <= size <= min(1024, len(head)) or (size - 16) % 4:
        return False
    brands = head[8 : min(size, len(head))]
    if not all(32 <= byte < 127 for byte in brands[:4] + brands[8:]):
        return False
    position, boxes = size, 1
    while position + 8 <= len(head) and boxes < 8:
        box_size = int.from_bytes(head[position : position + 4], "big")
        kind = head[position + 4 : position + 8]
        if kind not in TOP_LEVEL_BOXES:
            return False
        if box_size == 1:  # 64-bit size follows
            if position + 16 > len(head):
                return True
            box_size = int.from_bytes(head[position + 8 : position + 16], "big")
        if box_size == 0:  # the box runs to the end of the file
            return True
        if box_size < 8:
            return False
        position += box_size
        boxes += 1
    return True


def sniff_video(head: bytes) -> str | None:
    """The video content type the first bytes of a file show, or None if it is not a video.

    MP4/M4V/MOV (ISO base media), WebM/Matroska (EBML) and Ogg are recognised; the name and
    the type the browser claimed are ignored. Markup anywhere in the first bytes, or an MP4
    header followed by something that is not a box, is refused: a video does not carry a page.
    """
    lowered = head.lower()
    if any(marker in lowered for marker in MARKUP):
        return None
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in NOT_VIDEO_BRANDS or not _iso_boxes_ok(head):
            return None
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/mp4"  # isom, mp41, mp42, avc1, M4V, dash, 3gp... all play as MP4
    if len(head) >= 8 and head[4:8] in QUICKTIME_ATOMS:
        return "video/quicktime"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head.startswith(b"OggS"):
        return "video/ogg"
    return None


def sniff_image(head: bytes) -> str | None:
    """PNG, JPEG or WebP by their first bytes (never SVG: it can carry script)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


# -- writing uploads into the media folder -----------------------------------------------------


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


def media_dir() -> str:
    return current_app.config["MEDIA_DIR"]


def media_path(key: str) -> str:
    """The path of a stored file; keys are Aura's own random names, checked again here."""
    if not STORAGE_KEY.fullmatch(key or ""):
        raise NotFound("The video file is missing.")
    return os.path.join(media_dir(), key)


def media_file(video: Video) -> MediaFile:
    """What the streamer needs of a stored video: its path, type, validator and nginx URI."""
    prefix = current_app.config["STREAM_OFFLOAD_PREFIX"].rstrip("/")
    return MediaFile(
        path=media_path(video.storage_key),
        content_type=video.content_type,
        etag=video.sha256[:32],
        offload_path=f"{prefix}/{video.storage_key}",
    )


def new_key() -> str:
    return secrets.token_hex(16)


def caption_path(key: str) -> str:
    """The path of a stored caption file (``captions/<key>.vtt`` in the media folder)."""
    if not STORAGE_KEY.fullmatch(key or ""):
        raise NotFound("The caption file is missing.")
    return os.path.join(media_dir(), CAPTIONS, f"{key}.vtt")


def store_caption(text: str) -> str:
    """Write a WebVTT file durably (temporary name, fsync, rename); returns its storage key."""
    key = new_key()
    final = caption_path(key)
    directory = os.path.dirname(final)
    os.makedirs(directory, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=directory)
    try:
        with _space(), os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.rename(temp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_dir(directory)
    return key


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


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class UploadSpool:
    """One uploaded file being written into the media folder under a random temporary name.

    It hashes and counts what is written and keeps the first bytes for sniffing. ``keep()``
    makes it durable under its storage name; closing it without keeping removes it.
    """

    def __init__(self, directory: str) -> None:
        os.makedirs(directory, exist_ok=True)
        fd, self.path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=directory)
        self._file = os.fdopen(fd, "w+b")
        self._sha256 = hashlib.sha256()
        self.size = 0
        self.head = b""
        self.kept_path: str | None = None

    def write(self, data: bytes) -> int:
        if len(self.head) < SNIFF_BYTES:
            self.head += bytes(data[: SNIFF_BYTES - len(self.head)])
        self._sha256.update(data)
        self.size += len(data)
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

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return self._file.closed

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    def keep(self, key: str) -> str:
        """Write the file to disk for good under ``key``: fsync, rename, fsync the folder."""
        with _space():
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        directory = os.path.dirname(self.path)
        final = os.path.join(directory, key)
        os.rename(self.path, final)
        self.kept_path = final
        _fsync_dir(directory)
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

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
