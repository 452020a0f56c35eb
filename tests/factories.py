"""Test data builders: each adds what a test needs and returns it (most need the ``db`` fixture)."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import struct
import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from aura.extensions import db
from aura.models import Genre, Movie, User, Video, WatchlistEntry, movie_genre
from aura.services import media, passwords, samples
from aura.services.demo import slugify

# What a person's browser says it is (programs that say they are bots are not counted).
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

_counter = itertools.count(1)
_numbers = itertools.count(1)


def make_genre(name: str = "Drama", **fields: Any) -> Genre:
    genre = Genre(name=name, slug=fields.pop("slug", slugify(name)), **fields)
    db.session.add(genre)
    db.session.commit()
    return genre


def make_movie(title: str | None = None, genres: list[Genre] | None = None, **fields: Any) -> Movie:
    number = next(_counter)
    values: dict[str, Any] = {
        "title": title or f"Film {number}",
        "release_date": date(2000, 1, 1),
        "director": "Ada Director",
        "source": "local",
        "popularity": 1.0,
        "popular_score": 1.0,
        "trending_score": 0.0,
        "top_rated_score": 5.0,
    }
    values.update(fields)
    movie = Movie(**values)
    db.session.add(movie)
    db.session.flush()
    for genre in genres or []:
        db.session.execute(movie_genre.insert().values(movie_id=movie.id, genre_id=genre.id))
    db.session.commit()
    return movie


def make_movies(count: int, **fields: Any) -> list[Movie]:
    return [make_movie(**fields) for _ in range(count)]


def make_video_row(movie: Movie | None = None, title: str = "Clip", **fields: Any) -> Video:
    """A video row without a file behind it, for listings that never stream it."""
    video = Video(
        title=title,
        movie_id=movie.id if movie else None,
        storage_key=uuid.uuid4().hex,
        content_type="video/mp4",
        size=1000,
        sha256="0" * 64,
        **fields,
    )
    db.session.add(video)
    db.session.commit()
    return video


# -- accounts -----------------------------------------------------------------------------------

PASSWORD = "velvet harbour lantern 42"


def make_user(
    email: str | None = None,
    password: str = PASSWORD,
    display_name: str | None = None,
    role: str = "viewer",
    **fields,
) -> User:
    """A user with a known password (needs the ``db`` fixture)."""
    number = next(_numbers)
    user = User(
        email=(email or f"viewer{number}@example.com").casefold(),
        display_name=display_name or f"Viewer {number}",
        password_hash=passwords.hash_password(password),
        role=role,
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_supervisor(**fields) -> User:
    return make_user(
        email=fields.pop("email", None) or f"boss{next(_numbers)}@example.com",
        role="supervisor",
        **fields,
    )


def csrf_from(html: str) -> str:
    """The CSRF token a rendered page carries, as a browser would submit it."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


# -- videos -------------------------------------------------------------------------------------

SAMPLES = samples.SAMPLES_DIR
SAMPLE_MP4 = os.path.join(SAMPLES, "aura-sample.mp4")
SAMPLE_LOCKED_MP4 = os.path.join(SAMPLES, "aura-sample-locked.mp4")
VIDEO_PASSWORD = "open sesame 7"

# The first bytes of each kind of file the upload form must recognise, or refuse.
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
M4V_HEAD = b"\x00\x00\x00\x1cftypM4V \x00\x00\x00\x01M4V M4A mp42"
MOV_HEAD = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  "
MOV_CLASSIC_HEAD = b"\x00\x00\x00\x08wide\x00\x01\x00\x00mdat"
WEBM_HEAD = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm"
MKV_HEAD = b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x88matroska"
OGG_HEAD = b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def sample_bytes(path: str = SAMPLE_MP4) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def store_video(
    content: bytes | None = None,
    *,
    title: str = "Test reel",
    movie: Movie | None = None,
    password: str | None = None,
    content_type: str = "video/mp4",
    **fields,
) -> Video:
    """A video row with its file in the media folder (needs the ``db`` fixture)."""
    content = sample_bytes() if content is None else content
    key = media.new_key()
    os.makedirs(media.media_dir(), exist_ok=True)
    with open(os.path.join(media.media_dir(), key), "wb") as fh:
        fh.write(content)
    video = Video(
        id=uuid.uuid4(),
        title=title,
        movie_id=movie.id if movie else None,
        storage_key=key,
        original_filename="reel.mp4",
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        password_hash=generate_password_hash(password) if password else None,
        **fields,
    )
    db.session.add(video)
    db.session.commit()
    return video


def _boxes(data: bytes, start: int, end: int):
    """(type, box start, payload start, box end) of each ISO-BMFF box in data[start:end]."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[position + 8 : position + 16])[0]
            header = 16
        elif size == 0:
            size = end - position
        yield kind.decode("latin-1"), position, position + header, position + size
        position += size


def stretched_sample(padding: int, path: str = SAMPLE_MP4) -> bytes:
    """The sample video with ``padding`` bytes of nothing inside its media data, halfway.

    The chunk offsets after the gap are moved by ``padding``, so it still plays the same 30
    seconds, but its second half sits far into the file: a browser seeking there has to ask for
    a new range instead of reading on.
    """
    data = bytearray(sample_bytes(path))
    top = {kind: (start, body, end) for kind, start, body, end in _boxes(data, 0, len(data))}
    mdat_start, mdat_body, mdat_end = top["mdat"]
    tables = []  # offsets of every stco table's entries

    def walk(start: int, end: int) -> None:
        for kind, _box, body, box_end in _boxes(data, start, end):
            if kind in ("trak", "mdia", "minf", "stbl"):
                walk(body, box_end)
            elif kind == "stco":
                count = struct.unpack(">I", data[body + 4 : body + 8])[0]
                tables.extend(body + 8 + 4 * i for i in range(count))
            elif kind == "co64":
                raise ValueError("64-bit chunk offsets are not expected in the sample")

    _moov_start, moov_body, moov_end = top["moov"]
    walk(moov_body, moov_end)
    offsets = [struct.unpack(">I", data[at : at + 4])[0] for at in tables]
    middle = mdat_body + (mdat_end - mdat_body) // 2
    gap_at = min(offset for offset in offsets if offset >= middle)
    for at, offset in zip(tables, offsets, strict=True):
        if offset >= gap_at:
            data[at : at + 4] = struct.pack(">I", offset + padding)
    data[mdat_start : mdat_start + 4] = struct.pack(">I", mdat_end - mdat_start + padding)
    return bytes(data[:gap_at]) + bytes(padding) + bytes(data[gap_at:])


def watchlist_of(user_id: int) -> frozenset[int]:
    """The ids of every film on a user's watchlist."""
    return frozenset(
        db.session.scalars(
            sa.select(WatchlistEntry.movie_id).where(WatchlistEntry.user_id == user_id)
        )
    )
