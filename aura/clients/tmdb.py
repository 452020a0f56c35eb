"""TMDB v3: one client per app (one Session), rate limited, retried, answering dataclasses.

Auth is the v4 read token as a bearer header when set (it never appears in a URL), else the v3
``api_key`` query parameter. Image URLs are built only from validated TMDB file paths on the
configuration's ``secure_base_url``, and only when that host is allowed (TMDB_IMAGE_HOSTS):
nothing a response says is ever fetched by the server or handed to a browser otherwise.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
from flask import current_app

from aura.clients import fields, http
from aura.clients.errors import (
    TMDBAuthError,
    TMDBNotConfigured,
    TMDBNotFound,
    TMDBPageOutOfRange,
    TMDBProtocolError,
    TMDBRateLimited,
    TMDBRequestError,
    TMDBUnavailable,
    UpstreamError,
)
from aura.clients.http import (
    Deadline,
    Policy,
    build_session,
    call_with_retries,
    check_deadline,
    is_transport_error,
    parse_retry_after,
    read_body,
    transport_reason,
)
from aura.clients.ratelimit import Bucket, RateLimitTimeout, TokenBucket, acquire, bucket_for
from aura.clients.tmdb_types import (
    ChangesPage,
    Genre,
    ImageConfig,
    MovieDetails,
    MoviePage,
    Video,
    clamp_page,
    genre_list,
    video_list,
)
from aura.errors import Invalid

log = logging.getLogger(__name__)

LISTS = {
    "trending": "/trending/movie/week",
    "popular": "/movie/popular",
    "top_rated": "/movie/top_rated",
    "upcoming": "/movie/upcoming",
}
CHANGES_MAX_DAYS = 14  # /movie/changes looks back at most 14 days

# TMDB's own status codes (https://developer.themoviedb.org/docs/errors).
AUTH_CODES = {3, 7, 10, 14, 30, 31, 33}
NOT_FOUND_CODES = {6, 34}
PAGE_CODES = {22}
RATE_CODES = {25}
OUTAGE_CODES = {9, 11, 24, 43, 46}


class TMDBClient:
    """Every TMDB endpoint Aura uses; each method returns validated dataclasses."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        read_token: str | None = None,
        language: str = "en-US",
        region: str = "US",
        policy: Policy | None = None,
        bucket: Bucket | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not (api_key or read_token):
            raise TMDBNotConfigured
        self.base_url = base_url.rstrip("/")
        self.language = language
        self.region = region
        self.policy = policy or Policy()
        self.bucket = bucket or TokenBucket(40.0)
        self.session = session or build_session()
        self._sleep = sleep
        self.deadline: Deadline | None = None
        self._headers = {"Authorization": f"Bearer {read_token}"} if read_token else {}
        self._key_params = {} if read_token else {"api_key": api_key}

    def sleep(self, seconds: float) -> None:
        """Wait (for a retry or the rate limit): the given sleep, else ``http.pause``."""
        (self._sleep or http.pause)(seconds)

    def with_deadline(self, deadline: Deadline | None) -> TMDBClient:
        """The same client (same Session and bucket) bounded by ``deadline`` for every wait."""
        bounded = copy.copy(self)
        bounded.deadline = deadline
        return bounded

    # -- endpoints ---------------------------------------------------------------------------

    def genres(self) -> list[Genre]:
        return genre_list(self.get_json("/genre/movie/list", {"language": self.language}))

    def movie_list(self, name: str, page: int = 1) -> MoviePage:
        """One page of trending (this week), popular, top rated or upcoming."""
        try:
            path = LISTS[name]
        except KeyError:
            raise Invalid(f"There is no TMDB list called {name!r}.") from None
        params: dict[str, Any] = {"language": self.language, "page": clamp_page(page)}
        if name != "trending":
            params["region"] = self.region
        return MoviePage.from_json(self.get_json(path, params))

    def movie(self, movie_id: int) -> MovieDetails:
        """A film with its credits, release dates (certifications) and videos in one call."""
        params = {"language": self.language, "append_to_response": "credits,release_dates,videos"}
        return MovieDetails.from_json(self.get_json(f"/movie/{_tmdb_id(movie_id)}", params))

    def videos(self, movie_id: int) -> list[Video]:
        return video_list(self.get_json(f"/movie/{_tmdb_id(movie_id)}/videos", {}))

    def search(self, query: str, page: int = 1) -> MoviePage:
        cleaned = fields.text(query, 200)
        if cleaned is None:
            return MoviePage(page=1, total_pages=1, total_results=0, results=())
        params = {
            "query": cleaned,
            "language": self.language,
            "page": clamp_page(page),
            "include_adult": "false",
        }
        return MoviePage.from_json(self.get_json("/search/movie", params))

    def changes(self, start: date, end: date | None = None, page: int = 1) -> ChangesPage:
        """Ids of films changed between ``start`` and ``end``; at most 14 days are asked for."""
        end = end or datetime.now(UTC).date()
        start = min(max(start, end - timedelta(days=CHANGES_MAX_DAYS)), end)
        params = {
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "page": clamp_page(page),
        }
        return ChangesPage.from_json(self.get_json("/movie/changes", params))

    def configuration(self, allowed_hosts: tuple[str, ...]) -> ImageConfig:
        return ImageConfig.from_json(self.get_json("/configuration", {}), allowed_hosts)

    # -- transport ---------------------------------------------------------------------------

    def get_json(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """GET ``path`` under the retry policy; any failure becomes a TMDBError."""
        try:
            return call_with_retries(
                lambda: self._attempt(path, params),
                policy=self.policy,
                retryable=_retryable,
                retry_after=lambda error: getattr(error, "retry_after", None),
                sleep=self.sleep,
                deadline=self.deadline,
                name=f"TMDB {path}",
            )
        except requests.RequestException as error:
            # `from None`: the original message names the URL, and the URL may carry api_key.
            raise TMDBUnavailable(f"TMDB did not answer ({transport_reason(error)}).") from None

    def _attempt(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        check_deadline(self.deadline)
        try:
            acquire(self.bucket, self.sleep, self.deadline)
        except RateLimitTimeout:
            raise TMDBRateLimited("Aura's own TMDB rate limit left no time to ask.") from None
        response = self.session.get(
            self.base_url + path,
            params={**params, **self._key_params},
            headers=self._headers,
            timeout=self.policy.timeouts(self.deadline),
            allow_redirects=False,  # a redirect could lead anywhere, key and all
            stream=True,
        )
        body = read_body(response, deadline=self.deadline)
        return decode(response.status_code, response.headers, body, self.policy.retry_after_cap)


def decode(status: int, headers: Mapping[str, str], body: bytes | None, cap: float) -> dict:
    """TMDB's JSON, or the typed error its status and ``status_code`` mean."""
    payload: Any = None
    if body is not None:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack
            payload = None
    if 200 <= status < 300 and isinstance(payload, dict) and payload.get("success") is not False:
        return payload
    retry_after = parse_retry_after(headers.get("Retry-After"), cap)
    info = payload if isinstance(payload, dict) else {}
    code = fields.integer(info.get("status_code"), 0, 10_000)
    message = fields.text(info.get("status_message"), 200)
    said = f" (TMDB said: {message})" if message else ""
    if code in AUTH_CODES or (code is None and status == 401):
        raise TMDBAuthError(
            f"TMDB refused Aura's key{said}; check AURA_TMDB_API_KEY or AURA_TMDB_READ_TOKEN."
        )
    if code in NOT_FOUND_CODES or (code is None and status == 404):
        raise TMDBNotFound(f"TMDB has no such film{said}.")
    if code in PAGE_CODES:
        raise TMDBPageOutOfRange(f"TMDB has no such page{said}.")
    if code in RATE_CODES or status == 429:
        raise TMDBRateLimited(f"TMDB asked Aura to slow down{said}.", retry_after=retry_after)
    if code in OUTAGE_CODES or status >= 500:
        raise TMDBUnavailable(f"TMDB is having trouble (HTTP {status}){said}.", retry_after)
    if 200 <= status < 300:
        raise TMDBProtocolError("TMDB sent an answer Aura cannot read (not JSON).")
    if 300 <= status < 400:
        raise TMDBProtocolError(f"TMDB answered with a redirect (HTTP {status}).")
    raise TMDBRequestError(f"TMDB refused the request (HTTP {status}){said}.")


def _retryable(error: Exception) -> bool:
    if isinstance(error, UpstreamError):
        return error.retry
    return is_transport_error(error)


def _tmdb_id(movie_id: Any) -> int:
    checked = fields.identifier(movie_id)
    if checked is None:
        raise Invalid("A TMDB id is a whole number from 1 to 2147483647.")
    return checked


# -- the app's client ------------------------------------------------------------------------


def is_configured(config: Mapping[str, Any] | None = None) -> bool:
    """Whether a TMDB key or read token is set; without one Aura never calls TMDB."""
    config = config if config is not None else current_app.config
    return bool(config.get("TMDB_API_KEY") or config.get("TMDB_READ_TOKEN"))


def get_client(deadline: Deadline | None = None) -> TMDBClient:
    """The app's TMDB client, built once per configuration; raises TMDBNotConfigured."""
    config = current_app.config
    if not is_configured(config):
        raise TMDBNotConfigured
    policy = Policy.from_config(config)
    settings = (
        config["TMDB_API_BASE"],
        config.get("TMDB_API_KEY"),
        config.get("TMDB_READ_TOKEN"),
        config.get("TMDB_LANGUAGE", "en-US"),
        config.get("TMDB_REGION", "US"),
        float(config.get("TMDB_RATE_LIMIT", 40.0)),
        config.get("REDIS_URL"),
        policy,
    )
    clients = current_app.extensions.setdefault("aura.clients", {})
    held = clients.get("tmdb")
    if held is None or held[0] != settings:
        client = TMDBClient(
            settings[0],
            api_key=settings[1],
            read_token=settings[2],
            language=settings[3],
            region=settings[4],
            policy=policy,
            bucket=bucket_for(
                "tmdb", settings[5], settings[6], config.get("CACHE_KEY_PREFIX", "aura:")
            ),
        )
        held = clients["tmdb"] = (settings, client)
    return held[1].with_deadline(deadline) if deadline is not None else held[1]
