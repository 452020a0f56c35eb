"""The outbound rate limiter, in one process and shared through Redis; Retry-After parsing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import redis

from aura.clients.http import Deadline, parse_retry_after
from aura.clients.ratelimit import (
    RateLimitTimeout,
    RedisTokenBucket,
    TokenBucket,
    acquire,
    bucket_for,
)
from aura.clients.tmdb import TMDBClient
from tests.conftest import need_redis
from tests.fixtures.tmdb import recorded


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_bucket_grants_its_capacity_then_makes_callers_wait():
    clock = FakeClock()
    bucket = TokenBucket(rate=2, capacity=2, clock=clock)
    assert [bucket.try_acquire(), bucket.try_acquire()] == [0.0, 0.0]
    assert bucket.try_acquire() == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.try_acquire() == 0.0


def test_acquire_keeps_a_caller_under_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=5, capacity=1, clock=clock)
    for _ in range(11):
        acquire(bucket, clock.sleep)
    # 11 requests at 5 a second, one saved up: at least two seconds of waiting.
    assert sum(clock.slept) >= 2.0 - 1e-9


def test_acquire_gives_up_when_the_wait_passes_the_deadline():
    bucket = TokenBucket(rate=0.01, capacity=1)
    acquire(bucket, lambda s: None, Deadline(5))
    with pytest.raises(RateLimitTimeout):
        acquire(bucket, lambda s: None, Deadline(5))


def test_the_tmdb_client_waits_for_its_bucket_before_each_request(tmdb, app):
    clock = FakeClock()
    tmdb.server.expect_request("/3/genre/movie/list").respond_with_json(
        recorded("genres/movie_list.json")
    )
    client = TMDBClient(
        tmdb.base,
        api_key="k",
        bucket=TokenBucket(rate=1, capacity=1, clock=clock),
        sleep=clock.sleep,
    )
    for _ in range(3):
        client.genres()
    assert len(tmdb.requests()) == 3 and sum(clock.slept) >= 2.0 - 1e-9


def test_without_redis_the_bucket_is_this_processs_own():
    assert isinstance(bucket_for("tmdb", 40, None, "aura:"), TokenBucket)


def redis_url() -> str:
    return need_redis()


def test_two_limiters_on_redis_share_one_budget():
    url = redis_url()
    key = f"aura-test:ratelimit:{uuid.uuid4().hex}"
    # Two clients, as two processes would have: 2 tokens saved, one more every 10 seconds.
    first = RedisTokenBucket(redis.Redis.from_url(url), key, rate=0.1, capacity=2)
    second = RedisTokenBucket(redis.Redis.from_url(url), key, rate=0.1, capacity=2)
    try:
        assert first.try_acquire() == 0.0
        assert second.try_acquire() == 0.0
        assert first.try_acquire() > 0
        assert second.try_acquire() > 0
        other = RedisTokenBucket(redis.Redis.from_url(url), key + ":other", rate=0.1, capacity=2)
        assert other.try_acquire() == 0.0  # another upstream's budget is its own
    finally:
        redis.Redis.from_url(url).delete(key, key + ":other")


def test_the_app_uses_redis_for_the_tmdb_bucket_when_it_has_redis(app, tmdb):
    url = redis_url()
    with app.app_context():
        from aura.clients import tmdb as tmdb_client

        bucket = tmdb_client.get_client().bucket
    assert isinstance(bucket, RedisTokenBucket) and app.config["REDIS_URL"] == url


def test_a_redis_outage_falls_back_to_a_local_bucket(caplog):
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    bucket = RedisTokenBucket(dead, "aura-test:ratelimit:dead", rate=0.1, capacity=1)
    assert bucket.try_acquire() == 0.0
    assert bucket.try_acquire() > 0  # the local fallback still limits
    assert "limiting this process alone" in caplog.text


NOW = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("86400", 30.0),
        ("Fri, 01 Mar 2024 12:00:20 GMT", 20.0),
        ("Fri, 01 Mar 2024 11:00:00 GMT", 0.0),
        ("Sat, 02 Mar 2024 12:00:00 GMT", 30.0),
        ("-3", None),
        ("soon", None),
        ("", None),
        ("\u0665", None),
        ("1e9", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date_and_capped(header, seconds):
    assert parse_retry_after(header, cap=30.0, now=NOW) == seconds


def test_a_deadline_counts_down():
    deadline = Deadline(60)
    assert 0 < deadline.remaining() <= 60 and not deadline.expired
    assert Deadline(-1).expired
