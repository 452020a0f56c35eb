"""YouTube: is a trailer embeddable, and (as a last resort) search for one.

With AURA_YOUTUBE_API_KEY, ``videos.list?part=status`` answers for every candidate in one call
(1 quota unit); without it, the keyless oEmbed endpoint answers per video (200 embeddable,
401/403 not, 404 gone). ``search.list`` costs 100 units and is spent only within
YOUTUBE_SEARCH_DAILY_UNITS a Pacific day, counted across processes.
"""

from __future__ import annotations

import copy
import enum
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from flask import current_app

from aura.clients import fields, http
from aura.clients.errors import (
    UpstreamError,
    YouTubeAuthError,
    YouTubeError,
    YouTubeQuotaExceeded,
    YouTubeUnavailable,
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
from aura.clients.quota import DailyQuota

log = logging.getLogger(__name__)

SEARCH_UNITS = 100
MAX_IDS = 50  # videos.list takes at most 50 ids a call
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
SLOW_DOWN_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
KEY_REASONS = {"keyInvalid", "keyExpired", "accessNotConfigured", "forbidden", "ipRefererBlocked"}


class Embeddability(enum.Enum):
    EMBEDDABLE = "embeddable"
    NOT_EMBEDDABLE = "not_embeddable"  # exists, but its owner does not allow embedding
    GONE = "gone"  # deleted, private, or never existed


@dataclass(frozen=True)
class VideoStatus:
    key: str
    embeddable: bool
    privacy: str | None
    upload: str | None

    @property
    def verdict(self) -> Embeddability:
        if self.privacy == "private" or self.upload in ("deleted", "failed", "rejected"):
            return Embeddability.GONE
        playable = self.privacy in ("public", "unlisted") and self.upload == "processed"
        return (
            Embeddability.EMBEDDABLE
            if self.embeddable and playable
            else (Embeddability.NOT_EMBEDDABLE)
        )

    @classmethod
    def from_json(cls, data: Any) -> VideoStatus | None:
        item = fields.mapping(data)
        key = fields.youtube_key(item.get("id"))
        if key is None:
            return None
        status = fields.mapping(item.get("status"))
        return cls(
            key=key,
            embeddable=fields.flag(status.get("embeddable")),
            privacy=fields.text(status.get("privacyStatus"), 20),
            upload=fields.text(status.get("uploadStatus"), 20),
        )


class YouTubeClient:
    def __init__(
        self,
        api_base: str,
        oembed_url: str,
        *,
        api_key: str | None = None,
        search_quota: DailyQuota | None = None,
        policy: Policy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.oembed_url = oembed_url
        self.api_key = api_key
        self.search_quota = search_quota or DailyQuota("youtube-search", 0)
        self.policy = policy or Policy()
        self.session = session or build_session()
        self._sleep = sleep
        self.deadline: Deadline | None = None

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key)

    def sleep(self, seconds: float) -> None:
        """Wait before a retry: the given sleep, else ``http.pause``."""
        (self._sleep or http.pause)(seconds)

    def with_deadline(self, deadline: Deadline | None) -> YouTubeClient:
        bounded = copy.copy(self)
        bounded.deadline = deadline
        return bounded

    def statuses(self, keys: Iterable[str]) -> dict[str, Embeddability]:
        """Every well-formed key's verdict from one ``videos.list`` call; unknown keys are GONE."""
        wanted = list(dict.fromkeys(k for k in keys if fields.youtube_key(k)))[:MAX_IDS]
        if not wanted:
            return {}
        if not self.api_key:
            raise YouTubeAuthError("videos.list needs AURA_YOUTUBE_API_KEY.")
        params = {"part": "status", "id": ",".join(wanted), "key": self.api_key}
        payload = self._call(f"{self.api_base}/videos", params, self._data_api)
        found = {
            status.key: status.verdict
            for status in map(VideoStatus.from_json, fields.items(payload.get("items")))
            if status is not None
        }
        return {key: found.get(key, Embeddability.GONE) for key in wanted}

    def oembed(self, key: str) -> Embeddability:
        """One video's verdict from the keyless oEmbed endpoint."""
        if fields.youtube_key(key) is None:
            return Embeddability.GONE
        params = {"url": f"https://www.youtube.com/watch?v={key}", "format": "json"}
        return self._call(self.oembed_url, params, _oembed_verdict)

    def search(self, query: str, max_results: int = 5) -> list[str]:
        """Video keys for ``query`` (embeddable ones only), paid from the daily search quota."""
        cleaned = fields.text(query, 200)
        if cleaned is None:
            return []
        if not self.api_key:
            raise YouTubeAuthError("search.list needs AURA_YOUTUBE_API_KEY.")
        if not self.search_quota.spend(SEARCH_UNITS):
            raise YouTubeQuotaExceeded("Aura's daily YouTube search budget is spent.")
        params = {
            "part": "id",
            "type": "video",
            "videoEmbeddable": "true",
            "maxResults": str(min(max(max_results, 1), 10)),
            "q": cleaned,
            "key": self.api_key,
        }
        payload = self._call(f"{self.api_base}/search", params, self._data_api)
        keys = (
            fields.youtube_key(fields.mapping(fields.mapping(item).get("id")).get("videoId"))
            for item in fields.items(payload.get("items"))
        )
        return [key for key in dict.fromkeys(keys) if key]

    # -- transport ---------------------------------------------------------------------------

    def _call(self, url: str, params: Mapping[str, str], decode: Callable[..., Any]) -> Any:
        def attempt() -> Any:
            check_deadline(self.deadline)
            response = self.session.get(
                url,
                params=params,
                timeout=self.policy.timeouts(self.deadline),
                allow_redirects=False,
                stream=True,
            )
            body = read_body(response, limit=1024 * 1024, deadline=self.deadline)
            return decode(response.status_code, response.headers, body, self.policy)

        try:
            return call_with_retries(
                attempt,
                policy=self.policy,
                retryable=_retryable,
                retry_after=lambda error: getattr(error, "retry_after", None),
                sleep=self.sleep,
                deadline=self.deadline,
                name="YouTube",
            )
        except requests.RequestException as error:
            reason = transport_reason(error)
            raise YouTubeUnavailable(f"YouTube did not answer ({reason}).") from None

    def _data_api(
        self, status: int, headers: Mapping[str, str], body: bytes | None, policy: Policy
    ) -> dict[str, Any]:
        payload = _json(body)
        if 200 <= status < 300:
            if isinstance(payload, dict):
                return payload
            raise YouTubeError("YouTube sent an answer Aura cannot read.")
        error = fields.mapping(fields.mapping(payload).get("error"))
        reasons = {
            fields.text(fields.mapping(item).get("reason"), 60)
            for item in fields.items(error.get("errors"))
        }
        retry_after = parse_retry_after(headers.get("Retry-After"), policy.retry_after_cap)
        if reasons & QUOTA_REASONS:
            self.search_quota.exhaust()
            raise YouTubeQuotaExceeded("YouTube's daily quota is used up.")
        if status == 429 or reasons & SLOW_DOWN_REASONS or status >= 500:
            raise YouTubeUnavailable(f"YouTube is not answering (HTTP {status}).", retry_after)
        if status in (401, 403) or reasons & KEY_REASONS:
            raise YouTubeAuthError("YouTube refused Aura's API key; check AURA_YOUTUBE_API_KEY.")
        raise YouTubeError(f"YouTube refused the request (HTTP {status}).")


def _oembed_verdict(
    status: int, headers: Mapping[str, str], body: bytes | None, policy: Policy
) -> Embeddability:
    if status == 200:
        return Embeddability.EMBEDDABLE
    if status in (401, 403):
        return Embeddability.NOT_EMBEDDABLE
    if status in (400, 404):
        return Embeddability.GONE
    if status == 429 or status >= 500:
        retry_after = parse_retry_after(headers.get("Retry-After"), policy.retry_after_cap)
        raise YouTubeUnavailable(f"YouTube is not answering (HTTP {status}).", retry_after)
    raise YouTubeError(f"YouTube's oEmbed answered HTTP {status}.")


def _json(body: bytes | None) -> Any:
    if body is None:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _retryable(error: Exception) -> bool:
    if isinstance(error, UpstreamError):
        return error.retry
    return is_transport_error(error)


def get_client(deadline: Deadline | None = None) -> YouTubeClient:
    """The app's YouTube client, built once per configuration."""
    config = current_app.config
    policy = Policy.from_config(config)
    settings = (
        config["YOUTUBE_API_BASE"],
        config["YOUTUBE_OEMBED_URL"],
        config.get("YOUTUBE_API_KEY"),
        int(config.get("YOUTUBE_SEARCH_DAILY_UNITS", 1000)),
        config.get("REDIS_URL"),
        policy,
    )
    clients = current_app.extensions.setdefault("aura.clients", {})
    held = clients.get("youtube")
    if held is None or held[0] != settings:
        quota = DailyQuota(
            "youtube-search",
            settings[3],
            redis_url=settings[4],
            key_prefix=config.get("CACHE_KEY_PREFIX", "aura:"),
        )
        client = YouTubeClient(
            settings[0], settings[1], api_key=settings[2], search_quota=quota, policy=policy
        )
        held = clients["youtube"] = (settings, client)
    return held[1].with_deadline(deadline) if deadline is not None else held[1]
