"""Videos: the supervisor's uploads (the form's rules, creating, editing, deleting) and the
video library viewers browse (sorted, filtered, searched, paged by keyset).

A refused, failed or interrupted upload leaves neither a file nor a row: the file is kept in
the storage (aura.services.media: the media folder or the bucket) before the row is inserted,
and removed again if the insert fails. The name the browser sent is kept as text for the
supervisor to read.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from aura.errors import Invalid, NotFound
from aura.extensions import db
from aura.models import Caption, Movie, Video
from aura.services import audit, cursors, grants, media, search, values, visibility
from aura.services.cursors import Page
from aura.services.media import SmallFile, Upload, sniff_image, sniff_video

log = logging.getLogger(__name__)

MAX_THUMBNAIL_BYTES = 5 * 1024 * 1024
TITLE_MAX = 300
DESCRIPTION_MAX = 5000
PASSWORD_MIN = 6
PASSWORD_MAX = 200


# -- rules for the supervisor's form -----------------------------------------------------------


@dataclass
class VideoDetails:
    """What the supervisor typed. ``movie`` is a film's number, ``#number`` or its address."""

    title: str = ""
    description: str = ""
    movie: str = ""
    password: str = ""
    remove_password: bool = False
    remove_thumbnail: bool = False


def clean_filename(name: str | None) -> str | None:
    """The browser's file name as display text: no folders, no control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    return values.one_line(base, 255) or None


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
    reference = values.one_line(reference)
    if not reference:
        return None
    match = re.fullmatch(r"#?([0-9]{1,12})", reference, re.ASCII) or re.search(
        r"(?:#|/movies/)([0-9]{1,12})\b", reference, re.ASCII
    )
    if match is None:
        raise Invalid.field("movie", "Choose a film from the suggestions, or enter its number.")
    movie = db.session.get(Movie, int(match.group(1)))
    if movie is None:
        raise Invalid.field("movie", f"There is no film number {match.group(1)} in the catalog.")
    return movie


def _check_details(details: VideoDetails, errors: dict[str, str]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    title = values.one_line(details.title)
    if not title:
        errors["title"] = "Give the video a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Keep the title under {TITLE_MAX} characters."
    checked["title"] = title
    description = values.paragraphs(details.description)
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"Keep the description under {DESCRIPTION_MAX:,} characters."
    checked["description"] = description or None
    try:
        movie = find_movie(details.movie)
        checked["movie_id"] = movie.id if movie else None
    except Invalid as error:
        errors["movie"] = error.message
    password = details.password or ""
    if password and not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        errors["password"] = f"A video password needs {PASSWORD_MIN} to {PASSWORD_MAX} characters."
    return checked


def _check_video_file(upload: Upload | None, errors: dict[str, str]) -> str | None:
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


def _check_thumbnail(thumbnail: Upload | None, errors: dict[str, str]) -> str | None:
    if thumbnail is None or thumbnail.size == 0:
        return None
    if thumbnail.size > MAX_THUMBNAIL_BYTES:
        errors["thumbnail"] = "The thumbnail can be at most 5 MB."
        return None
    content_type = sniff_image(thumbnail.head)
    if content_type is None:
        errors["thumbnail"] = "The thumbnail must be a PNG, JPEG or WebP picture."
    return content_type


# -- the supervisor's operations ---------------------------------------------------------------


def create_video(
    details: VideoDetails,
    upload: Upload | None,
    *,
    filename: str | None = None,
    thumbnail: Upload | None = None,
    uploader_id: int | None = None,
    client_ip: str | None = None,
) -> Video:
    """Store an uploaded video and record it. Commits.

    Raises Invalid with field messages: 413 over ``AURA_MAX_UPLOAD_MB``, 422 for anything else
    wrong; either way nothing is kept.
    """
    if upload is not None and upload.size > max_upload_bytes():
        raise Invalid(
            fields={
                "file": f"That file is {_size_text(upload.size)}; videos can be at most "
                f"{current_app.config['MAX_UPLOAD_MB']:,} MB."
            },
            status=413,
        )
    errors: dict[str, str] = {}
    checked = _check_details(details, errors)
    content_type = _check_video_file(upload, errors)
    thumbnail_type = _check_thumbnail(thumbnail, errors)
    if errors:
        raise Invalid(fields=errors)
    assert upload is not None and content_type is not None

    video_key = upload.key
    thumbnail_key = thumbnail.key if thumbnail is not None and thumbnail_type else None
    upload.keep()
    try:
        if thumbnail is not None and thumbnail_key:
            thumbnail.keep()
        video = Video(
            duration_seconds=media.read_duration(video_key),
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
            **checked,
        )
        db.session.add(video)
        audit.record(
            "video.upload",
            actor_id=uploader_id,
            target=f"video:{video.id}",
            detail={"title": video.title, "size": video.size, "locked": video.locked},
            client_ip=client_ip,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        media.remove_keys(video_key, thumbnail_key)
        raise
    return video


def update_video(
    video_id: uuid.UUID,
    details: VideoDetails,
    *,
    thumbnail: Upload | None = None,
    actor_id: int | None = None,
    client_ip: str | None = None,
) -> Video:
    """Change a video's text, film, thumbnail or password. Commits.

    A new or removed password revokes every grant for the video, so nobody keeps watching on
    the old one.
    """
    video = get_video(video_id)
    errors: dict[str, str] = {}
    checked = _check_details(details, errors)
    thumbnail_type = _check_thumbnail(thumbnail, errors)
    if errors:
        raise Invalid(fields=errors)

    old_thumbnail = None
    new_thumbnail = thumbnail.key if thumbnail is not None and thumbnail_type else None
    changes = [name for name, value in checked.items() if getattr(video, name) != value]
    for name, value in checked.items():
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
            thumbnail.keep()
        audit.record(
            "video.edit",
            actor_id=actor_id,
            target=f"video:{video.id}",
            detail={"changed": changes, "locked": video.locked},
            client_ip=client_ip,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        media.remove_keys(new_thumbnail)
        raise
    if old_thumbnail and old_thumbnail != video.thumbnail_key:
        media.remove_keys(old_thumbnail)
    return video


def delete_video(
    video_id: uuid.UUID, *, actor_id: int | None = None, client_ip: str | None = None
) -> None:
    """Delete a video, its grants, progress, plays and captions, then its files. Commits."""
    video = get_video(video_id)
    keys = (video.storage_key, video.thumbnail_key)
    caption_keys = list(
        db.session.scalars(sa.select(Caption.storage_key).where(Caption.video_id == video.id))
    )
    audit.record(
        "video.delete",
        actor_id=actor_id,
        target=f"video:{video.id}",
        detail={"title": video.title, "size": video.size},
        client_ip=client_ip,
    )
    db.session.execute(sa.delete(Caption).where(Caption.video_id == video.id))
    db.session.delete(video)
    db.session.commit()
    media.remove_keys(*keys)
    media.remove_captions(*caption_keys)


# -- reading -----------------------------------------------------------------------------------


def get_video(video_id: uuid.UUID) -> Video:
    video = db.session.get(Video, video_id)
    if video is None:
        raise NotFound("There is no such video. It may have been removed.")
    return video


@dataclass(frozen=True)
class DurationsReport:
    read: int
    unreadable: int

    def summary(self) -> str:
        return (
            f"Durations: {self.read} read, {self.unreadable} unreadable (left empty; "
            "the video library shows no duration for them)."
        )


def fill_durations(batch: int = 50) -> DurationsReport:
    """Read the duration of every stored video that has none yet (stored before Aura read
    them, or unreadable then). Commits every ``batch`` videos, so an interrupted run keeps what
    it read."""
    read = unreadable = 0
    last: uuid.UUID | None = None
    while True:
        stmt = sa.select(Video).where(Video.duration_seconds.is_(None)).order_by(Video.id)
        if last is not None:
            stmt = stmt.where(Video.id > last)
        found = db.session.scalars(stmt.limit(batch)).all()
        if not found:
            break
        for video in found:
            try:
                seconds = media.read_duration(video.storage_key)
            except NotFound:  # a storage key that is not Aura's: nothing to read
                seconds = None
            video.duration_seconds = seconds
            if seconds is None:
                unreadable += 1
            else:
                read += 1
        last = found[-1].id
        db.session.commit()
    return DurationsReport(read, unreadable)


def list_videos() -> Sequence[Video]:
    """Every video, newest first, with its film loaded (the supervisor's table)."""
    return db.session.scalars(
        sa.select(Video)
        .options(sa.orm.joinedload(Video.movie))
        .order_by(Video.uploaded_at.desc(), Video.title)
    ).all()


def videos_for_movie(movie_id: int) -> Sequence[Video]:
    """The videos a film's Play buttons open (the caller has checked the film is visible)."""
    return db.session.scalars(
        sa.select(Video).where(Video.movie_id == movie_id).order_by(Video.uploaded_at)
    ).all()


def film_choices(query: str, limit: int = 10) -> Sequence[Movie]:
    """Films whose title starts with or contains ``query``, for the upload form's suggestions."""
    return search.search_movies(query, include_hidden=True).movies[:limit]


@dataclass(frozen=True)
class StoredImage:
    file: SmallFile
    content_type: str
    etag: str


def thumbnail(video_id: uuid.UUID, include_hidden: bool = False) -> StoredImage:
    video = grants.watchable_video(video_id, include_hidden=include_hidden)
    if not video.thumbnail_key or not video.thumbnail_content_type:
        raise NotFound("This video has no thumbnail.")
    return StoredImage(
        media.small_file(video.thumbnail_key, MAX_THUMBNAIL_BYTES + 1),
        video.thumbnail_content_type,
        video.thumbnail_key,
    )


# -- the video library viewers browse ----------------------------------------------------------

LIBRARY_PAGE_SIZE = 24
SEARCH_MAX_CHARS = 200
SEARCH_MAX_WORDS = 8


@dataclass(frozen=True)
class LibrarySort:
    name: str
    label: str
    key: Any  # what the list is ordered by, with Video.id as the tie-break
    descending: bool
    kind: str  # how the key travels in a cursor (aura.services.cursors)


LIBRARY_SORTS: dict[str, LibrarySort] = {
    sort.name: sort
    for sort in (
        LibrarySort("newest", "Newest", Video.uploaded_at, True, "datetime"),
        LibrarySort("views", "Most viewed", Video.view_count, True, "number"),
        # Case-blind, over the expression index ix_video_title.
        LibrarySort("title", "Title", sa.func.lower(Video.title), False, "text"),
    )
}
LIBRARY_SHOWS = {"all": "All videos", "open": "Open", "locked": "Locked"}
DEFAULT_SORT, DEFAULT_SHOW = "newest", "all"


def library_sort(name: str | None) -> LibrarySort:
    try:
        return LIBRARY_SORTS[name or DEFAULT_SORT]
    except KeyError:
        raise Invalid("Videos can be sorted by newest, most viewed or title.") from None


def library_show(name: str | None) -> str:
    name = name or DEFAULT_SHOW
    if name not in LIBRARY_SHOWS:
        raise Invalid("The video library shows all videos, open ones or locked ones.")
    return name


def library_query(raw: str | None) -> str:
    """Search text as typed, on one line and bounded."""
    return values.one_line(raw)[:SEARCH_MAX_CHARS].strip()


def _matches(query: str) -> list[sa.ColumnElement[bool]]:
    """Every word must appear in the title or the description. A LIKE scan, not an index:
    a video library holds thousands of videos, not the catalog's hundreds of thousands."""
    conditions = []
    for word in query.split()[:SEARCH_MAX_WORDS]:
        pattern = search.like_pattern(word)
        conditions.append(
            sa.or_(
                Video.title.ilike(pattern, escape="\\"),
                Video.description.ilike(pattern, escape="\\"),
            )
        )
    return conditions


def library_page(
    *,
    sort: str | None = None,
    show: str | None = None,
    query: str = "",
    after: str | None = None,
    include_hidden: bool = False,
    limit: int = LIBRARY_PAGE_SIZE,
) -> Page:
    """One page of the videos this audience may see, with their films loaded: sorted
    (``LIBRARY_SORTS``, newest first by default), ``show`` all, "open" or "locked" ones, and
    matching every word of ``query`` (already cleaned by ``library_query``)."""
    spec = library_sort(sort)
    show = library_show(show)
    stmt = (
        sa.select(Video)
        .options(sa.orm.joinedload(Video.movie))
        .where(visibility.videos(include_hidden), *_matches(query))
    )
    if show == "open":
        stmt = stmt.where(Video.password_hash.is_(None))
    elif show == "locked":
        stmt = stmt.where(Video.password_hash.is_not(None))
    return cursors.paginate(stmt, spec.key, Video.id, spec.kind, spec.descending, after, limit)


def newest_videos(limit: int, include_hidden: bool = False) -> Sequence[Video]:
    """The newest videos this audience may see (the home page's row): one query."""
    return library_page(limit=limit, include_hidden=include_hidden).items


def up_next(video: Video, include_hidden: bool = False) -> Video | None:
    """The video after ``video`` in the library's default order (newest first) that this
    audience may see, or None after the last."""
    spec = LIBRARY_SORTS[DEFAULT_SORT]
    after = cursors.encode(spec.kind, video.uploaded_at, video.id)
    page = library_page(after=after, include_hidden=include_hidden, limit=1)
    return page.items[0] if page.items else None
