"""The Redis cache, answering as a miss while Redis is away.

Everything Aura keeps in the cache can be computed again from the database (rows, scores'
mean, TMDB answers, locks that stop two processes doing the same refresh), so a Redis restart
must cost time, not pages: reads answer "not cached", writes answer "not written" (``add``
too, so a lock or a one-time mark is never taken twice while Redis cannot say).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask_caching.backends.rediscache import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

AWAY = (RedisConnectionError, RedisTimeoutError, OSError)
LOG_EVERY = 10.0  # seconds: one warning per stretch of outage, not one per request


_warned_at: dict[str, float] = {}


def warn_away(what: str, error: Exception) -> None:
    """One warning per stretch of outage of ``what``, not one per request."""
    now = time.monotonic()
    if now - _warned_at.get(what, -LOG_EVERY) >= LOG_EVERY:
        _warned_at[what] = now
        log.warning("Redis unavailable (%s), going on without it: %s", what, error)


class RedisCacheOrMiss(RedisCache):
    """Flask-Caching's RedisCache whose calls answer as a miss when Redis does not answer."""

    def _away(self, error: Exception, missed: Any) -> Any:
        warn_away("cache", error)
        return missed

    def get(self, key: str) -> Any:
        try:
            return super().get(key)
        except AWAY as error:
            return self._away(error, None)

    def get_many(self, *keys: str) -> list[Any]:
        try:
            return super().get_many(*keys)
        except AWAY as error:
            return self._away(error, [None] * len(keys))

    def has(self, key: str) -> bool:
        try:
            return super().has(key)
        except AWAY as error:
            return self._away(error, False)

    def set(self, key: str, value: Any, timeout: int | None = None) -> Any:
        try:
            return super().set(key, value, timeout)
        except AWAY as error:
            return self._away(error, False)

    def add(self, key: str, value: Any, timeout: int | None = None) -> Any:
        try:
            return super().add(key, value, timeout)
        except AWAY as error:
            return self._away(error, False)

    def set_many(self, mapping: dict[str, Any], timeout: int | None = None) -> list[Any]:
        try:
            return super().set_many(mapping, timeout)
        except AWAY as error:
            return self._away(error, [])

    def delete(self, key: str) -> bool:
        try:
            return super().delete(key)
        except AWAY as error:
            return self._away(error, False)

    def delete_many(self, *keys: str) -> list[Any]:
        try:
            return super().delete_many(*keys)
        except AWAY as error:
            return self._away(error, [])

    def inc(self, key: str, delta: int = 1) -> Any:
        try:
            return super().inc(key, delta)
        except AWAY as error:
            return self._away(error, None)

    def dec(self, key: str, delta: int = 1) -> Any:
        try:
            return super().dec(key, delta)
        except AWAY as error:
            return self._away(error, None)

    def clear(self) -> bool:
        try:
            return super().clear()
        except AWAY as error:
            return self._away(error, False)
