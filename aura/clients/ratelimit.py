"""Outbound rate limits: a token bucket per upstream, shared through Redis when there is one.

In one process a lock-guarded bucket is enough; several processes (waitress behind nginx, a
sync running beside the site) share one bucket kept in Redis by a small Lua script, so together
they stay under the upstream's limit. If Redis stops answering, the process falls back to its
own bucket rather than stopping outside calls altogether.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

from aura.clients.http import Deadline

log = logging.getLogger(__name__)


class Bucket(Protocol):
    def try_acquire(self) -> float:
        """Take one token: 0.0 when granted, else the seconds until one will be there."""
        ...


class TokenBucket:
    """An in-process token bucket: ``rate`` tokens a second, at most ``capacity`` saved up."""

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else default_capacity(rate)
        self._clock = clock
        self._tokens = self.capacity
        self._at = clock()
        self._lock = threading.Lock()

    def try_acquire(self) -> float:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate


# Redis keeps the bucket as a hash (tokens, at) and uses its own clock, so every process agrees.
_BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisTokenBucket:
    """The same bucket kept in Redis, shared by every process that uses the same key."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        rate: float,
        capacity: float | None = None,
        fallback: Bucket | None = None,
    ) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else default_capacity(rate)
        self.key = key
        self._script = client.register_script(_BUCKET_SCRIPT)
        self._fallback = fallback or TokenBucket(rate, self.capacity)
        self._warned = False

    def try_acquire(self) -> float:
        try:
            wait = float(self._script(keys=[self.key], args=[self.rate, self.capacity]))
        except (redis.RedisError, ValueError) as error:
            if not self._warned:
                log.warning("rate limit store unavailable (%s); limiting this process alone", error)
                self._warned = True
            return self._fallback.try_acquire()
        self._warned = False
        return wait


def default_capacity(rate: float) -> float:
    """A quarter second of burst: the busiest second then sees at most 1.25 x rate requests."""
    return max(1.0, rate / 4)


class RateLimitTimeout(Exception):
    """The deadline passed while waiting for a token."""


def acquire(
    bucket: Bucket,
    sleep: Callable[[float], None] = time.sleep,
    deadline: Deadline | None = None,
) -> None:
    """Wait for a token; raise RateLimitTimeout if it would come after ``deadline``."""
    while True:
        wait = bucket.try_acquire()
        if wait <= 0:
            return
        if deadline is not None and wait >= deadline.remaining():
            raise RateLimitTimeout
        sleep(min(wait, 1.0))


def bucket_for(name: str, rate: float, redis_url: str | None, key_prefix: str) -> Bucket:
    """The bucket for one upstream: in Redis when Aura has one, else in this process."""
    if not redis_url:
        return TokenBucket(rate)
    client = redis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
    return RedisTokenBucket(client, f"{key_prefix}ratelimit:{name}", rate)
