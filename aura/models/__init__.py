"""Aura's data model, one module per aggregate."""

from aura.models.activity import AuditEvent, View
from aura.models.analytics import (
    DailyVisit,
    FilmHour,
    JobRun,
    TrafficDay,
    TrafficHour,
    VideoHour,
    VisitorSalt,
)
from aura.models.base import UTCDateTime, utcnow
from aura.models.library import DiaryEntry, Rating, WatchlistEntry
from aura.models.movie import LIST_NAMES, Genre, ListEntry, Movie, movie_genre
from aura.models.session import LoginSession, PasswordReset
from aura.models.state import SiteCounter
from aura.models.sync import SyncRun
from aura.models.user import ROLES, User
from aura.models.video import AccessGrant, Caption, PlaybackProgress, Video

__all__ = [
    "LIST_NAMES",
    "ROLES",
    "AccessGrant",
    "AuditEvent",
    "Caption",
    "DailyVisit",
    "DiaryEntry",
    "FilmHour",
    "Genre",
    "JobRun",
    "ListEntry",
    "LoginSession",
    "Movie",
    "PasswordReset",
    "PlaybackProgress",
    "Rating",
    "SiteCounter",
    "SyncRun",
    "TrafficDay",
    "TrafficHour",
    "UTCDateTime",
    "User",
    "Video",
    "VideoHour",
    "View",
    "VisitorSalt",
    "WatchlistEntry",
    "movie_genre",
    "utcnow",
]
