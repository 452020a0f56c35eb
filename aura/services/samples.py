"""The demo site's sample videos (``aura/data/samples``), installed once into the media storage."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from aura.extensions import db
from aura.models import Movie, Video
from aura.services import media
from aura.services.videos import VideoDetails, create_video

SAMPLES_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "samples")


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
    """Copy the bundled sample videos into the media storage and link them to demo films.

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
        spool = media.new_upload()
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
