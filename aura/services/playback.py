"""Where each signed-in viewer stopped, so the player resumes there ("continue watching").

Jellyfin's rule: a position is kept only between 5% and 90% of the video; before 5% there is
nothing worth resuming, and past 90% the video counts as watched and starts over next time.
A row with ``watched`` false is always a position worth resuming (the library lists those).
Crossing 90% of a film's video also logs the film in the viewer's diary, once a day.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from aura.errors import Invalid
from aura.extensions import db
from aura.models import Movie, PlaybackProgress, Video, utcnow
from aura.services import grants, library, values, visibility
from aura.services.visitors import Visitor

RESUME_FROM = 0.05
WATCHED_AFTER = 0.90
MAX_DURATION = 7 * 24 * 3600.0  # seconds; anything longer is not a real video duration


@dataclass(frozen=True)
class ContinueItem:
    video: Video
    movie: Movie | None
    position: float
    duration: float | None

    @property
    def percent(self) -> int:
        if not self.duration:
            return 0
        return max(1, min(99, round(100 * self.position / self.duration)))


def _seconds(raw: object, name: str) -> float:
    """Seconds as the player sends them (``12.5``): ASCII digits, 0 to a week."""
    return values.decimal_number(
        raw, low=0.0, high=MAX_DURATION, message=f"The {name} must be a number of seconds."
    )


def record(
    video_id: uuid.UUID,
    token: str | None,
    visitor: Visitor,
    position: object,
    duration: object,
    *,
    _retried: bool = False,
) -> PlaybackProgress | None:
    """Save a signed-in viewer's position (the player reports it while playing). Commits.

    The viewer must hold a valid grant for the video; reporting also keeps the grant alive
    while a long film plays. Anonymous viewers' reports only do that.
    """
    position_s = _seconds(position, "position")
    duration_s = _seconds(duration, "duration")
    if duration_s <= 0:
        raise Invalid("The duration must be more than zero seconds.")
    video, _grant = grants.authorize(video_id, token, visitor)
    if visitor.user_id is None:
        return None
    position_s = min(position_s, duration_s)
    fraction = position_s / duration_s
    progress = db.session.scalar(
        sa.select(PlaybackProgress).where(
            PlaybackProgress.user_id == visitor.user_id, PlaybackProgress.video_id == video.id
        )
    )
    if fraction < RESUME_FROM:
        # Nothing worth resuming: forget an unfinished position, keep a finished one's mark.
        if progress is not None and not progress.watched:
            db.session.delete(progress)
            db.session.commit()
        elif progress is not None:
            progress.position_seconds = 0.0
            db.session.commit()
        return None
    if progress is None:
        progress = PlaybackProgress(user_id=visitor.user_id, video_id=video.id)
        db.session.add(progress)
    finished = fraction > WATCHED_AFTER and not progress.watched
    progress.duration_seconds = duration_s
    progress.updated_at = utcnow()
    if fraction > WATCHED_AFTER:
        progress.watched = True
        progress.position_seconds = 0.0
    else:  # in progress again, even if it was finished before
        progress.watched = False
        progress.position_seconds = round(position_s, 1)
    try:
        db.session.commit()
    except IntegrityError:  # the same viewer's other tab inserted first: update that row
        db.session.rollback()
        if _retried:
            raise
        return record(video_id, token, visitor, position, duration, _retried=True)
    if finished and video.movie_id is not None:
        library.log_watch(
            visitor.user_id,
            video.movie_id,
            utcnow().date(),
            source="playback",
            include_hidden=visitor.sees_hidden,
        )
    return progress


def resume_position(user_id: int | None, video_id: uuid.UUID) -> float:
    """Where the player should start for this viewer (0 when there is nothing to resume)."""
    if user_id is None:
        return 0.0
    position = db.session.scalar(
        sa.select(PlaybackProgress.position_seconds).where(
            PlaybackProgress.user_id == user_id, PlaybackProgress.video_id == video_id
        )
    )
    return float(position or 0.0)


def continue_watching(
    user_id: int, limit: int = 12, include_hidden: bool = False
) -> list[ContinueItem]:
    """The viewer's videos with a saved position, most recently watched first."""
    stmt = (
        sa.select(PlaybackProgress, Video, Movie)
        .join(Video, Video.id == PlaybackProgress.video_id)
        .outerjoin(Movie, Movie.id == Video.movie_id)
        .where(
            PlaybackProgress.user_id == user_id,
            PlaybackProgress.watched.is_(False),
            PlaybackProgress.position_seconds > 0,
        )
        .order_by(PlaybackProgress.updated_at.desc(), PlaybackProgress.id.desc())
        .limit(limit)
    )
    stmt = stmt.where(visibility.videos(include_hidden))
    return [
        ContinueItem(
            video=video,
            movie=movie,
            position=progress.position_seconds,
            duration=progress.duration_seconds,
        )
        for progress, video, movie in db.session.execute(stmt)
    ]
