"""Daily quotas that reset at midnight Pacific time, as Google's API quotas do.

The count lives in Redis when Aura has one (an atomic reserve-or-refuse script, so several
processes never overspend together), else in the app cache of this one process. Units are
reserved before the call they pay for: a call that fails afterwards still counts, which errs on
the side of never exceeding the quota.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import redis

from aura.extensions import cache

log = logging.getLogger(__name__)
PACIFIC = ZoneInfo("America/Los_Angeles")

_RESERVE_SCRIPT = """
local units = tonumber(ARGV[1])
local used = redis.call('INCRBY', KEYS[1], units)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
if used > tonumber(ARGV[2]) then
  redis.call('DECRBY', KEYS[1], units)
  return 0
end
return 1
"""


def quota_day(now: datetime) -> date:
    """The quota day ``now`` falls in (the calendar day in Los Angeles)."""
    return now.astimezone(PACIFIC).date()


def seconds_until_reset(now: datetime) -> int:
    """Seconds until the next Pacific midnight (DST days are 23 or 25 hours long)."""
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=PACIFIC)
    # In UTC: subtracting two times of one ZoneInfo zone ignores a DST change between them.
    return max(int((midnight.astimezone(UTC) - now.astimezone(UTC)).total_seconds()), 1)


class DailyQuota:
    """``limit`` units a Pacific day under ``name``; ``spend`` reserves or refuses."""

    def __init__(
        self,
        name: str,
        limit: int,
        redis_url: str | None = None,
        key_prefix: str = "aura:",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.limit = limit
        self._clock = clock
        self._prefix = key_prefix
        self._redis = (
            redis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
            if redis_url
            else None
        )
        self._script = self._redis.register_script(_RESERVE_SCRIPT) if self._redis else None
        self._lock = threading.Lock()

    def _key(self, now: datetime) -> str:
        return f"quota:{self.name}:{quota_day(now).isoformat()}"

    def spend(self, units: int) -> bool:
        """Reserve ``units`` of today's quota; False (nothing reserved) when it would go over."""
        now = self._clock()
        keep = seconds_until_reset(now) + 3600  # outlive the day, so a late reader still sees it
        if self._script is not None:
            try:
                granted = self._script(
                    keys=[self._prefix + self._key(now)], args=[units, self.limit, keep]
                )
            except redis.RedisError as error:
                log.warning("quota store unavailable (%s); not spending %s", error, self.name)
                return False
            return bool(granted)
        with self._lock:  # one process: the cache is this process's own memory
            used = int(cache.get(self._key(now)) or 0)
            if used + units > self.limit:
                return False
            cache.set(self._key(now), used + units, timeout=keep)
            return True

    def used(self) -> int:
        now = self._clock()
        if self._redis is not None:
            try:
                return int(self._redis.get(self._prefix + self._key(now)) or 0)
            except (redis.RedisError, ValueError):
                return self.limit
        return int(cache.get(self._key(now)) or 0)

    def exhaust(self) -> None:
        """Mark today's quota used up (the API said so, whatever our count was)."""
        now = self._clock()
        keep = seconds_until_reset(now) + 3600
        if self._redis is not None:
            try:
                self._redis.set(self._prefix + self._key(now), self.limit, ex=keep)
            except redis.RedisError as error:
                log.warning("quota store unavailable (%s)", error)
            return
        cache.set(self._key(now), self.limit, timeout=keep)
