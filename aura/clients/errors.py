"""Typed failures of outside services, all ``UpstreamUnavailable`` so a page can say so.

``retry`` marks the ones worth another try (rate limits, outages); the others (a refused key, a
missing film, a page out of range, an answer that is not an answer) are final at once.
"""

from __future__ import annotations

from aura.errors import UpstreamUnavailable


class UpstreamError(UpstreamUnavailable):
    retry = False
    retry_after: float | None = None  # seconds the service asked us to wait, when it did

    def __init__(self, message: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TMDBError(UpstreamError):
    title = "TMDB could not answer"


class TMDBNotConfigured(TMDBError):
    title = "TMDB is not configured: set AURA_TMDB_API_KEY or AURA_TMDB_READ_TOKEN."


class TMDBAuthError(TMDBError):
    title = "TMDB refused Aura's key"


class TMDBNotFound(TMDBError):
    status = 404
    title = "TMDB has no such film"


class TMDBPageOutOfRange(TMDBError):
    title = "TMDB has no such page"


class TMDBRequestError(TMDBError):
    title = "TMDB refused the request"


class TMDBUnavailable(TMDBError):
    retry = True
    title = "TMDB is not answering"


class TMDBRateLimited(TMDBUnavailable):
    title = "TMDB asked Aura to slow down"


class TMDBProtocolError(TMDBUnavailable):
    """An answer that is not TMDB's JSON (a proxy's error page, a cut-off body)."""

    retry = False
    title = "TMDB sent an answer Aura cannot read"


class YouTubeError(UpstreamError):
    title = "YouTube could not answer"


class YouTubeAuthError(YouTubeError):
    title = "YouTube refused Aura's API key"


class YouTubeUnavailable(YouTubeError):
    retry = True
    title = "YouTube is not answering"


class YouTubeQuotaExceeded(YouTubeError):
    title = "YouTube's daily quota for Aura is used up"
