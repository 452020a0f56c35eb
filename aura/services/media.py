"""Media files: content sniffing, and the one way to Aura's storage (``aura.services.storage``).

An upload goes into the configured storage while it arrives (the media folder under a random
temporary name, or the bucket part by part), hashed on the way so the process never holds the
file in memory; it is checked by its first bytes and kept under a random storage key, or
dropped leaving nothing. The name the browser sent never becomes a path or an object name.
Uploads, thumbnails, captions, deletes, streams, durations, backups and migrations all come
through here.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app

from aura.models import Video, utcnow
from aura.services import durations, storage
from aura.services.storage import CAPTIONS, SNIFF_BYTES, Storage, Upload, caption_name, new_key
from aura.services.storage.local import (
    TEMP_PREFIX,
    TEMP_SUFFIX,
    LocalStorage,
    UploadSpool,
    is_upload_temp,
    stored_files,
)
from aura.services.streaming import MediaFile

log = logging.getLogger(__name__)

__all__ = [
    "CAPTIONS", "SNIFF_BYTES", "TEMP_PREFIX", "TEMP_SUFFIX", "Storage", "Upload", "UploadSpool",
    "caption_name", "is_upload_temp", "new_key", "stored_files",
]  # fmt: skip

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


# -- the storage -------------------------------------------------------------------------------


def current() -> Storage:
    """The storage ``AURA_MEDIA_STORAGE`` names (the media folder, or the bucket)."""
    return storage.current()


def media_dir() -> str:
    return current_app.config["MEDIA_DIR"]


def content_type_of(head: bytes) -> str | None:
    """The type the first bytes show: a video, or a thumbnail's picture."""
    return sniff_video(head) or sniff_image(head)


def sniffer_for(name: str):
    """How to name the type of a stored file being copied (a migration, a restore)."""
    if name.startswith(CAPTIONS + "/"):
        return lambda _head: "text/vtt; charset=utf-8"
    return content_type_of


def new_upload() -> Upload:
    """Somewhere for an arriving file to go: kept with ``keep()``, dropped by ``close()``."""
    return current().new_upload(content_type_of)


def store_caption(text: str) -> str:
    """Store a WebVTT file durably under a new key; returns the key."""
    key = new_key()
    current().put_bytes(caption_name(key), text.encode("utf-8"), "text/vtt; charset=utf-8")
    return key


def remove(*names: str) -> None:
    """Delete stored files after the rows naming them are gone; a missing one is fine."""
    store = current()
    for name in names:
        try:
            store.delete(name)
        except Exception:
            log.exception("could not remove media file %s", name)


def remove_keys(*keys: str | None) -> None:
    """Delete videos or thumbnails by storage key."""
    remove(*(key for key in keys if key and storage.KEY.fullmatch(key)))


def remove_captions(*keys: str) -> None:
    remove(*(caption_name(key) for key in keys))


def read_duration(key: str) -> float | None:
    """How long the stored video plays (None when its file does not say)."""
    store = current()
    if isinstance(store, LocalStorage):
        return durations.read_duration(store.path(key))
    try:
        with store.open(storage.checked_name(key)) as fh:
            return durations.read_duration_of(fh)
    except FileNotFoundError:
        return None
    except Exception:
        log.warning("could not read the duration of %s", key, exc_info=True)
        return None


@dataclass(frozen=True)
class SmallFile:
    """A thumbnail or caption to send: a path in the media folder, or its bytes."""

    path: str | None
    data: bytes | None


def small_file(name: str, limit: int) -> SmallFile:
    """A stored thumbnail or caption, for Aura to send itself (never a redirect: they are
    small, and the page's CSP stays 'self' for pictures and tracks). FileNotFoundError when
    it is gone."""
    store = current()
    if isinstance(store, LocalStorage):
        return SmallFile(store.path(name), None)
    return SmallFile(None, store.read_bytes(storage.checked_name(name), limit))


# -- streaming ---------------------------------------------------------------------------------


def url_lifetime(grant_expires_at: datetime | None, now: datetime | None = None) -> int:
    """Seconds a presigned URL lives: ``AURA_S3_URL_TTL``, never past the grant's expiry."""
    seconds = float(current_app.config["S3_URL_TTL"])
    if grant_expires_at is not None:
        seconds = min(seconds, (grant_expires_at - (now or utcnow())).total_seconds())
    return max(math.floor(seconds), 1)


def media_file(
    video: Video, grant_expires_at: datetime | None = None, method: str = "GET"
) -> MediaFile:
    """What the streamer needs of a stored video: its path and nginx URI in the media folder,
    or, in a bucket, a presigned URL for it alone (living at most until the grant expires,
    signed for the request's ``method``) and the nginx URI that proxies that URL."""
    key = storage.checked_name(video.storage_key)
    store = current()
    etag = video.sha256[:32]
    if isinstance(store, LocalStorage):
        prefix = current_app.config["STREAM_OFFLOAD_PREFIX"].rstrip("/")
        return MediaFile(
            path=store.path(key),
            content_type=video.content_type,
            etag=etag,
            offload_path=f"{prefix}/{key}",
        )
    url = store.presigned_url(key, url_lifetime(grant_expires_at), video.content_type, method)
    parts = urlsplit(url)
    prefix = current_app.config["S3_OFFLOAD_PREFIX"].rstrip("/")
    return MediaFile(
        path=None,
        content_type=video.content_type,
        etag=etag,
        offload_path=f"{prefix}{parts.path}?{parts.query}",
        redirect_url=url,
    )


# -- moving media between storages -------------------------------------------------------------


def migrate(to: str, echo=None):
    """``aura media migrate --to``: see ``aura.services.storage.migration``."""
    from aura.services.storage import migration

    return migration.migrate(to, echo)
