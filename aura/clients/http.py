"""What every outside client shares: one Session, explicit timeouts, and one retry policy.

The policy retries connection errors, timeouts, 429 and 5xx a bounded number of times with
exponential backoff, waits at least what ``Retry-After`` asks (capped), and never retries any
other 4xx. The wait goes through the client's own ``sleep`` so tests can observe it.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import backoff
import requests
from requests.exceptions import ChunkedEncodingError

from aura.extensions import cache

log = logging.getLogger(__name__)
T = TypeVar("T")

USER_AGENT = "Aura/0.1 (self-hosted movie catalog)"
MAX_BODY_BYTES = 4 * 1024 * 1024  # the largest TMDB answer is ~100 KiB; more is not an answer
_SECONDS = re.compile(r"[0-9]{1,10}(\.[0-9]{1,6})?", re.ASCII)


@dataclass(frozen=True)
class Policy:
    """Timeouts and retries for one client, read from the app config."""

    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    max_tries: int = 4
    retry_base: float = 0.5
    retry_after_cap: float = 30.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        return cls(
            connect_timeout=float(config.get("HTTP_CONNECT_TIMEOUT", 3.05)),
            read_timeout=float(config.get("HTTP_READ_TIMEOUT", 10.0)),
            max_tries=int(config.get("HTTP_MAX_TRIES", 4)),
            retry_base=float(config.get("HTTP_RETRY_BASE", 0.5)),
            retry_after_cap=float(config.get("HTTP_RETRY_AFTER_CAP", 30.0)),
        )

    def timeouts(self, deadline: Deadline | None) -> tuple[float, float]:
        """(connect, read) for one attempt, never longer than what is left of the deadline."""
        if deadline is None:
            return (self.connect_timeout, self.read_timeout)
        left = max(deadline.remaining(), 0.05)
        return (min(self.connect_timeout, left), min(self.read_timeout, left))

    def with_tries(self, max_tries: int) -> Policy:
        return replace(self, max_tries=max_tries)


class Deadline:
    """A point in monotonic time an operation must finish by (a page's time budget)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


def pause(seconds: float) -> None:
    """Every wait of every client (retries, rate limits) unless it was given its own sleep.

    Looked up at call time, so tests patch ``aura.clients.http.pause`` to record waits.
    """
    time.sleep(seconds)


def build_session() -> requests.Session:
    """The one Session a client keeps: pooled connections and our User-Agent."""
    session = requests.Session()
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
    return session


def parse_retry_after(value: str | None, cap: float, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped.

    None when the header is absent or unreadable, so the caller falls back to its own backoff.
    """
    if value is None:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), cap)


def read_body(
    response: requests.Response, limit: int = MAX_BODY_BYTES, deadline: Deadline | None = None
) -> bytes | None:
    """The response body, or None when it is larger than ``limit`` (reads at most one chunk more).

    ``iter_content`` turns urllib3's read errors into requests' own, so a body cut off midway
    is a transport error like any other. The read timeout bounds each read, not the whole
    body, so a body trickling in past the deadline is a timeout too.
    """
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > limit:
                return None
            if deadline is not None and deadline.expired:
                raise requests.Timeout("the time budget ran out while reading")
            chunks.append(chunk)
    finally:
        response.close()
    return b"".join(chunks)


def check_deadline(deadline: Deadline | None) -> None:
    """Before an attempt: none is made once the budget is spent."""
    if deadline is not None and deadline.expired:
        raise requests.Timeout("the time budget ran out")


def call_with_retries(
    attempt: Callable[[], T],
    *,
    policy: Policy,
    retryable: Callable[[Exception], bool],
    retry_after: Callable[[Exception], float | None],
    sleep: Callable[[float], None],
    deadline: Deadline | None = None,
    name: str = "request",
) -> T:
    """Run ``attempt`` under the retry policy; the last error is raised when retries run out."""

    def waits() -> Iterator[float]:
        tries = 0
        error = yield 0.0  # backoff primes the generator, then sends each failure
        while True:
            delay = retry_after(error)
            if delay is None:
                # Exponential with a little upward jitter so processes do not retry in step.
                delay = min(policy.retry_base * 2**tries, policy.retry_after_cap)
                delay *= 1 + random.random() * 0.25
            tries += 1
            if deadline is not None and delay >= deadline.remaining():
                return  # no time left to wait: backoff gives up with this error
            log.info("%s failed (%s); retrying in %.2fs", name, type(error).__name__, delay)
            sleep(delay)
            # Slept above through the injectable sleep; backoff's own sleep is then zero.
            error = yield 0.0

    retrying = backoff.on_exception(
        waits,
        Exception,
        max_tries=policy.max_tries,
        giveup=lambda error: not retryable(error),
        jitter=None,
        logger=None,  # our own log lines: backoff's would print URLs, and URLs carry api_key
    )(attempt)
    return retrying()


def is_transport_error(error: Exception) -> bool:
    """Connection failures and timeouts: worth another try."""
    return isinstance(error, requests.ConnectionError | requests.Timeout | ChunkedEncodingError)


def transport_reason(error: requests.RequestException) -> str:
    """A short reason without the URL (which may carry a key)."""
    if isinstance(error, requests.Timeout):
        return "timed out"
    if isinstance(error, requests.ConnectionError):
        return "could not connect"
    return "request failed"


class Outage:
    """A short shared note that a service is down, so pages stop waiting on it for a while.

    Only page-time callers (with a time budget) consult it; the sync always asks for itself.
    It lives in the app cache, so with Redis every process sees it.
    """

    def __init__(self, name: str, seconds: int = 60) -> None:
        self.key = f"outage:{name}"
        self.seconds = seconds

    def note(self) -> None:
        cache.set(self.key, 1, timeout=self.seconds)

    def active(self) -> bool:
        return bool(cache.get(self.key))

    def clear(self) -> None:
        cache.delete(self.key)
