"""Videos supervisors upload: content sniffing, storage under ``AURA_MEDIA_DIR``, edits, deletion.

An upload is written straight into the media folder under a random temporary name while it
arrives (hashed on the way, so the process never holds the file in memory), checked by its
first bytes, made durable (fsync, rename to a random storage name), and only then recorded.
A refused, failed or interrupted upload leaves neither a file nor a row. The name the browser
sent is kept as text for the supervisor to read; it never becomes a path.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import shutil
import tempfile
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from werkzeug.formparser import FormDataParser
from werkzeug.security import generate_password_hash

from aura.errors import Invalid, NotFound
from aura.extensions import db
from aura.models import Movie, Video
from aura.services import activity, grants
from aura.services.streaming import MediaFile

log = logging.getLogger(__name__)

SNIFF_BYTES = 512
TEMP_PREFIX = ".upload-"
TEMP_SUFFIX = ".part"
STORAGE_KEY = re.compile(r"[0-9a-f]{32}")
MAX_THUMBNAIL_BYTES = 5 * 1024 * 1024
TITLE_MAX = 300
DESCRIPTION_MAX = 5000
PASSWORD_MIN = 6
PASSWORD_MAX = 200
SAMPLES_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "samples")

# ISO base media brands that are pictures or sound, not video.
NOT_VIDEO_BRANDS = {
    b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
    b"jp2 ", b"jpx ", b"crx ", b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ",
}  # fmt: skip
QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


# -- content sniffing --------------------------------------------------------------------------


def sniff_video(head: bytes) -> str | None:
    """The video content type the first bytes of a file show, or None if it is not a video.

    MP4/M4V/MOV (ISO base media), WebM/Matroska (EBML) and Ogg are recognised; the name and
    the type the browser claimed are ignored.
    """
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in NOT_VIDEO_BRANDS:
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
        return self._file.write(data)

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def flush(self) -> None:
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
        if not self._file.closed:
            self._file.close()
        if self.kept_path is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


class MediaFormParser(FormDataParser):
    """werkzeug's form parser, writing file parts into ``directory`` as UploadSpools.

    Every spool is added to ``spools`` so the request can close them all when it ends, also
    when parsing failed half-way (a dropped connection).
    """

    def __init__(
        self, stream_factory=None, *args: Any, directory: str, spools: list, **kwargs: Any
    ) -> None:
        def factory(
            total_content_length=None, content_type=None, filename=None, content_length=None
        ) -> UploadSpool:
            spool = UploadSpool(directory)
            spools.append(spool)
            return spool

        super().__init__(factory, *args, **kwargs)


# -- rules for the supervisor's form -----------------------------------------------------------


class FieldErrors(Invalid):
    """Some fields of the video form are wrong; ``errors`` maps each field to its message."""

    status = 422
    title = "Please correct the highlighted fields"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(" ".join(errors.values()))


class UploadTooLarge(FieldErrors):
    status = 413
    title = "That file is too large"


@dataclass
class VideoDetails:
    """What the supervisor typed. ``movie`` is a film's number, ``#number`` or its address."""

    title: str = ""
    description: str = ""
    movie: str = ""
    password: str = ""
    remove_password: bool = False
    remove_thumbnail: bool = False


def _clean_text(value: str | None, *, multiline: bool = False) -> str:
    value = unicodedata.normalize("NFC", value or "")
    allowed = "\n\t" if multiline else ""
    value = "".join(ch for ch in value if ch.isprintable() or ch in allowed).replace("\r", "")
    if not multiline:
        value = " ".join(value.split())
    return value.strip()


def clean_filename(name: str | None) -> str | None:
    """The browser's file name as display text: no folders, no control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _clean_text(base)[:255]
    return base or None


def max_upload_bytes() -> int:
    return current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024


def _size_text(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def find_movie(reference: str) -> Movie | None:
    """The film a supervisor referred to, or None for an empty reference; Invalid if unknown."""
    reference = _clean_text(reference)
    if not reference:
        return None
    match = re.fullmatch(r"#?(\d{1,12})", reference) or re.search(
        r"(?:#|/movies/)(\d{1,12})\b", reference
    )
    if match is None:
        raise Invalid("Choose a film from the suggestions, or enter its number.")
    movie = db.session.get(Movie, int(match.group(1)))
    if movie is None:
        raise Invalid(f"There is no film number {match.group(1)} in the catalog.")
    return movie


def _check_details(details: VideoDetails, errors: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    title = _clean_text(details.title)
    if not title:
        errors["title"] = "Give the video a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Keep the title under {TITLE_MAX} characters."
    values["title"] = title
    description = _clean_text(details.description, multiline=True)
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"Keep the description under {DESCRIPTION_MAX:,} characters."
    values["description"] = description or None
    try:
        movie = find_movie(details.movie)
        values["movie_id"] = movie.id if movie else None
    except Invalid as error:
        errors["movie"] = error.message
    password = details.password or ""
    if password and not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        errors["password"] = f"A video password needs {PASSWORD_MIN} to {PASSWORD_MAX} characters."
    return values


def _check_video_file(upload: UploadSpool | None, errors: dict[str, str]) -> str | None:
    if upload is None:
        errors["file"] = "Choose a video file to upload."
        return None
    if upload.size == 0:
        errors["file"] = "That file is empty."
        return None
    content_type = sniff_video(upload.head)
    if content_type is None:
        errors["file"] = (
            "That file is not a video Aura can serve. Upload an MP4, M4V, MOV, WebM, MKV or "
            "Ogg video."
        )
    return content_type


def _check_thumbnail(thumbnail: UploadSpool | None, errors: dict[str, str]) -> str | None:
    if thumbnail is None or thumbnail.size == 0:
        return None
    if thumbnail.size > MAX_THUMBNAIL_BYTES:
        errors["thumbnail"] = "The thumbnail can be at most 5 MB."
        return None
    content_type = sniff_image(thumbnail.head)
    if content_type is None:
        errors["thumbnail"] = "The thumbnail must be a PNG, JPEG or WebP picture."
    return content_type


def _remove_files(*keys: str | None) -> None:
    for key in keys:
        if not key:
            continue
        try:
            os.unlink(media_path(key))
        except FileNotFoundError:
            pass
        except OSError:
            log.exception("could not remove media file %s", key)


# -- the supervisor's operations ---------------------------------------------------------------


def create_video(
    details: VideoDetails,
    upload: UploadSpool | None,
    *,
    filename: str | None = None,
    thumbnail: UploadSpool | None = None,
    uploader_id: int | None = None,
    client_ip: str | None = None,
) -> Video:
    """Store an uploaded video and record it. Commits.

    Raises UploadTooLarge (413) over ``AURA_MAX_UPLOAD_MB`` and FieldErrors (422) for anything
    else wrong; either way nothing is kept.
    """
    if upload is not None and upload.size > max_upload_bytes():
        raise UploadTooLarge(
            {
                "file": f"That file is {_size_text(upload.size)}; videos can be at most "
                f"{current_app.config['MAX_UPLOAD_MB']:,} MB."
            }
        )
    errors: dict[str, str] = {}
    values = _check_details(details, errors)
    content_type = _check_video_file(upload, errors)
    thumbnail_type = _check_thumbnail(thumbnail, errors)
    if errors:
        raise FieldErrors(errors)
    assert upload is not None and content_type is not None

    video_key = new_key()
    thumbnail_key = new_key() if thumbnail_type else None
    upload.keep(video_key)
    try:
        if thumbnail is not None and thumbnail_key:
            thumbnail.keep(thumbnail_key)
        video = Video(
            id=uuid.uuid4(),
            storage_key=video_key,
            original_filename=clean_filename(filename),
            content_type=content_type,
            size=upload.size,
            sha256=upload.sha256,
            thumbnail_key=thumbnail_key,
            thumbnail_content_type=thumbnail_type,
            password_hash=generate_password_hash(details.password) if details.password else None,
            uploader_id=uploader_id,
            **values,
        )
        db.session.add(video)
        activity.audit(
            "video.upload",
            actor_id=uploader_id,
            target=f"video:{video.id}",
            detail={"title": video.title, "size": video.size, "locked": video.locked},
            client_ip=client_ip,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _remove_files(video_key, thumbnail_key)
        raise
    return video


def update_video(
    video_id: uuid.UUID,
    details: VideoDetails,
    *,
    thumbnail: UploadSpool | None = None,
    actor_id: int | None = None,
    client_ip: str | None = None,
) -> Video:
    """Change a video's text, film, thumbnail or password. Commits.

    A new or removed password revokes every grant for the video, so nobody keeps watching on
    the old one.
    """
    video = get_video(video_id)
    errors: dict[str, str] = {}
    values = _check_details(details, errors)
    thumbnail_type = _check_thumbnail(thumbnail, errors)
    if errors:
        raise FieldErrors(errors)

    old_thumbnail = None
    new_thumbnail = new_key() if thumbnail_type else None
    changes = [name for name, value in values.items() if getattr(video, name) != value]
    for name, value in values.items():
        setattr(video, name, value)
    if new_thumbnail or details.remove_thumbnail:
        old_thumbnail = video.thumbnail_key
        video.thumbnail_key = new_thumbnail
        video.thumbnail_content_type = thumbnail_type
        changes.append("thumbnail")
    password_changed = False
    if details.password:
        video.password_hash = generate_password_hash(details.password)
        password_changed = True
    elif details.remove_password and video.locked:
        video.password_hash = None
        password_changed = True
    if password_changed:
        grants.revoke_video(video.id)
        changes.append("password")
    try:
        if thumbnail is not None and new_thumbnail:
            thumbnail.keep(new_thumbnail)
        activity.audit(
            "video.edit",
            actor_id=actor_id,
            target=f"video:{video.id}",
            detail={"changed": changes, "locked": video.locked},
            client_ip=client_ip,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _remove_files(new_thumbnail)
        raise
    if old_thumbnail and old_thumbnail != video.thumbnail_key:
        _remove_files(old_thumbnail)
    return video


def delete_video(
    video_id: uuid.UUID, *, actor_id: int | None = None, client_ip: str | None = None
) -> None:
    """Delete a video, its grants, progress and plays, then its files. Commits."""
    video = get_video(video_id)
    keys = (video.storage_key, video.thumbnail_key)
    activity.audit(
        "video.delete",
        actor_id=actor_id,
        target=f"video:{video.id}",
        detail={"title": video.title, "size": video.size},
        client_ip=client_ip,
    )
    db.session.delete(video)
    db.session.commit()
    _remove_files(*keys)


# -- reading -----------------------------------------------------------------------------------


def get_video(video_id: uuid.UUID) -> Video:
    video = db.session.get(Video, video_id)
    if video is None:
        raise NotFound("There is no such video. It may have been removed.")
    return video


def list_videos() -> Sequence[Video]:
    """Every video, newest first, with its film loaded (the supervisor's table)."""
    return db.session.scalars(
        sa.select(Video)
        .options(sa.orm.joinedload(Video.movie))
        .order_by(Video.uploaded_at.desc(), Video.title)
    ).all()


def videos_for_movie(movie_id: int) -> Sequence[Video]:
    return db.session.scalars(
        sa.select(Video).where(Video.movie_id == movie_id).order_by(Video.uploaded_at)
    ).all()


def film_choices(query: str, limit: int = 10) -> Sequence[Movie]:
    """Films whose title starts with or contains ``query``, for the upload form's suggestions."""
    from aura.services import search

    return search.search_movies(query, include_hidden=True).movies[:limit]


@dataclass(frozen=True)
class StoredImage:
    path: str
    content_type: str
    etag: str


def thumbnail(video_id: uuid.UUID, include_hidden: bool = False) -> StoredImage:
    video = grants.watchable_video(video_id, include_hidden=include_hidden)
    if not video.thumbnail_key or not video.thumbnail_content_type:
        raise NotFound("This video has no thumbnail.")
    return StoredImage(
        media_path(video.thumbnail_key), video.thumbnail_content_type, video.thumbnail_key
    )


# -- the demo site's sample videos -------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    filename: str
    title: str
    description: str
    film_title: str
    locked: bool = False


SAMPLES = (
    Sample(
        "aura-sample.mp4",
        "Aura sample reel",
        "Thirty seconds of colour and a clock, to try the player: play, pause and seek.",
        "Night of the Living Dead",
    ),
    Sample(
        "aura-sample-locked.mp4",
        "Aura locked sample",
        "A password-protected sample. `aura demo` printed its password when it created it.",
        "Casablanca",
        locked=True,
    ),
)


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def install_samples(echo: Callable[[str], Any] = print) -> list[Video]:
    """Copy the bundled sample videos into the media folder and link them to demo films.

    Idempotent (a sample already stored is left alone). The locked sample gets a random
    password, printed once. Commits.
    """
    added = []
    for sample in SAMPLES:
        source = os.path.join(SAMPLES_DIR, sample.filename)
        if not os.path.exists(source):
            echo(f"Sample video {sample.filename} is missing from the package; skipped.")
            continue
        digest = _file_sha256(source)
        if db.session.scalar(sa.select(sa.exists().where(Video.sha256 == digest))):
            echo(f"Sample video “{sample.title}” already present.")
            continue
        movie = db.session.scalars(
            sa.select(Movie)
            .where(Movie.title == sample.film_title)
            .order_by(Movie.release_date.asc())
            .limit(1)
        ).first()
        password = secrets.token_urlsafe(9) if sample.locked else ""
        spool = UploadSpool(media_dir())
        try:
            with open(source, "rb") as fh:
                shutil.copyfileobj(fh, spool, 1024 * 1024)
            video = create_video(
                VideoDetails(
                    title=sample.title,
                    description=sample.description,
                    movie=str(movie.id) if movie else "",
                    password=password,
                ),
                spool,
                filename=sample.filename,
            )
        finally:
            spool.close()
        added.append(video)
        where = f" on “{movie.title}”" if movie else ""
        echo(f"Sample video “{sample.title}” added{where}.")
        if password:
            echo(f"  Its password (shown once): {password}")
    return added
