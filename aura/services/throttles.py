"""Guessing bounded, owners never locked out, and every refusal says truly how long.

A throttle is a set of limits, each counted under a key (an account, an address, a browser, a
video). Only failures count. Callers choose the keys for who is asking, so that the person who
has the right password is never behind the attacker's counter (OWASP's "device cookies"): a
browser that signed in before is limited on its own, untrusted clients per account and per
address. A refusal is ``Throttled`` with the real number of seconds until the next attempt
(the 429's ``Retry-After``) and a message saying it in words; the first refusal of each
lockout is written to the audit trail.

The counts live in the limiter's storage (Redis when configured, so every process shares
them). While Redis does not answer, each process counts in its own memory instead: guessing
stays bounded, and nobody is refused (or shown a 500) because Redis is restarting.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage

from aura.caching import AWAY, warn_away
from aura.errors import Throttled
from aura.extensions import cache, db, limiter
from aura.services import audit


@dataclass(frozen=True)
class Limit:
    """``item`` failures per window, counted per key; ``name`` says what it counts."""

    name: str
    item: RateLimitItem

    @classmethod
    def of(cls, name: str, rate: str) -> Limit:
        return cls(name, parse(rate))


Check = tuple[Limit, str]  # a limit and the key it is counted under


def key_of(*parts: object) -> str:
    """A short key for anything identifying (an email, an address): never kept in clear."""
    raw = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _ids(limit: Limit, key: str) -> tuple[str, ...]:
    return ("throttle", limit.name, key)


_local = None  # the same strategy over this process's memory, while the storage is away


def _counted(method: str, limit: Limit, key: str):
    """``method`` of the limiter's strategy, or of the in-memory one while Redis is away."""
    global _local
    try:
        return getattr(limiter.limiter, method)(limit.item, *_ids(limit, key))
    except AWAY as error:
        warn_away("rate limit storage", error)
        if _local is None:
            _local = type(limiter.limiter)(MemoryStorage())
        return getattr(_local, method)(limit.item, *_ids(limit, key))


def wait_seconds(checks: Sequence[Check]) -> int:
    """Seconds until every limit in ``checks`` has room again; 0 when none is exhausted."""
    wait = 0.0
    for limit, key in checks:
        if not _counted("test", limit, key):
            reset_at, _remaining = _counted("get_window_stats", limit, key)
            wait = max(wait, reset_at - time.time(), 1.0)
    return math.ceil(wait)


def fail(checks: Sequence[Check]) -> None:
    """Count one failure against every limit in ``checks``."""
    for limit, key in checks:
        _counted("hit", limit, key)


def in_words(seconds: int) -> str:
    """``about 40 minutes``, ``about 2 hours``, ``less than a minute``."""
    if seconds < 60:
        return "less than a minute"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    return f"about {hours} hours"


def refuse(
    checks: Sequence[Check],
    message: str,
    *,
    action: str,
    target: str | None,
    actor_id: int | None = None,
    client_ip: str | None = None,
) -> None:
    """Raise Throttled (with the true wait) if any limit in ``checks`` is exhausted.

    ``message`` ends with the wait in words (``… Try again in {wait}.``). The first refusal
    of each lockout goes to the audit trail (committed); later ones in the same window do not,
    so an attack cannot flood the trail.
    """
    wait = wait_seconds(checks)
    if not wait:
        return
    exhausted = [limit.name for limit, key in checks if wait_seconds([(limit, key)])]
    window = int(time.time() + wait) // 60
    first = cache.add(f"throttle:audited:{key_of(action, target, window)}", 1, timeout=wait + 60)
    if first:
        audit.record(
            action,
            actor_id=actor_id,
            target=target,
            detail={"limits": exhausted, "retry_after": wait},
            client_ip=client_ip,
        )
        db.session.commit()
    raise Throttled(message.format(wait=in_words(wait)), retry_after=wait)
