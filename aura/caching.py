"""The shared cache in Redis, failing open: a Redis that is away costs speed, never a page.

Everything Aura caches can be rebuilt from the database (home rows, the dashboard's figures,
TMDB's configuration, score means), so while Redis does not answer a read misses and a write is
dropped, and the page is built from the database. After a failure the process leaves Redis
alone for ``RETRY_SECONDS`` (a dead Redis would otherwise cost a refused connection on every
call) and then simply tries again: it recovers by itself when Redis returns.

What guards security must not fail open: ``claim_once`` (the two-factor replay guard) raises
``Unavailable`` instead of answering "yes" when it cannot know.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from flask_caching.backends.rediscache import RedisCache

from aura.errors import Unavailable
from aura.extensions import cache

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # how long a process leaves Redis alone after a failed call


class SharedCache(RedisCache):
    """Flask-Caching's RedisCache whose calls miss (or are dropped) while Redis is away."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return time.monotonic() < self._down_until

    def _failed(self, error: redis.RedisError) -> None:
        with self._lock:
            was_up = not self.down
            self._down_until = time.monotonic() + RETRY_SECONDS
        if was_up:
            log.warning(
                "shared cache (Redis) unavailable (%s: %s); pages are built from the database "
                "and Redis is tried again every %.0f s",
                type(error).__name__,
                error,
                RETRY_SECONDS,
            )

    def _call(self, method: Callable[..., Any], default: Any, *args: Any, **kwargs: Any) -> Any:
        if self._down_until and self.down:
            return default
        try:
            result = method(*args, **kwargs)
        except redis.RedisError as error:
            self._failed(error)
            return default
        if self._down_until:
            self._down_until = 0.0
            log.info("shared cache (Redis) answers again")
        return result

    def get(self, key: str) -> Any:
        return self._call(super().get, None, key)

    def get_many(self, *keys: str) -> list[Any]:
        return self._call(super().get_many, [None] * len(keys), *keys)

    def has(self, key: str) -> bool:
        return self._call(super().has, False, key)

    def set(self, key: str, value: Any, timeout: Any = None) -> Any:
        return self._call(super().set, False, key, value, timeout)

    def add(self, key: str, value: Any, timeout: Any = None) -> bool:
        return self._call(super().add, False, key, value, timeout)

    def set_many(self, mapping: dict[str, Any], timeout: Any = None) -> list[Any]:
        return self._call(super().set_many, [], mapping, timeout)

    def delete(self, key: str) -> bool:
        return self._call(super().delete, False, key)

    def delete_many(self, *keys: str) -> list[Any]:
        return self._call(super().delete_many, [], *keys)

    def clear(self) -> bool:
        return self._call(super().clear, False)

    def inc(self, key: str, delta: int = 1) -> Any:
        return self._call(super().inc, None, key, delta)

    def dec(self, key: str, delta: int = 1) -> Any:
        return self._call(super().dec, None, key, delta)

    def add_strict(self, key: str, value: Any, timeout: Any = None) -> bool:
        """``add`` that raises RedisError instead of missing (whatever the recent failures)."""
        return bool(RedisCache.add(self, key, value, timeout))


UNAVAILABLE = (
    "Aura cannot check this right now (its shared store is not answering), so it is not "
    "accepting it for a moment. Please try again in about a minute."
)


def claim_once(key: str, timeout: int) -> bool:
    """True the first time ``key`` is claimed within ``timeout`` seconds, on every process
    sharing the cache; raises Unavailable when the cache cannot say (fails closed)."""
    backend = cache.cache
    if isinstance(backend, SharedCache):
        try:
            return backend.add_strict(key, 1, timeout)
        except redis.RedisError as error:
            log.warning("refused a check that needs Redis: %s", type(error).__name__)
            raise Unavailable(UNAVAILABLE, retry_after=60) from None
    return bool(cache.add(key, 1, timeout=timeout))
