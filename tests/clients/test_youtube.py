"""YouTube: embeddability through the Data API and oEmbed, and the daily search quota."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from aura.clients import youtube as youtube_client
from aura.clients.errors import (
    YouTubeAuthError,
    YouTubeError,
    YouTubeQuotaExceeded,
    YouTubeUnavailable,
)
from aura.clients.quota import DailyQuota, quota_day, seconds_until_reset
from aura.clients.youtube import Embeddability
from tests.conftest import need_redis

YES, NO, GONE = Embeddability.EMBEDDABLE, Embeddability.NOT_EMBEDDABLE, Embeddability.GONE
KEYS = ["BdJKm16Co6M", "6JnN1DmbqoU", "aaaaaaaaaaa", "bbbbbbbbbbb", "ccccccccccc", "ddddddddddd"]


def status(key, embeddable=True, privacy="public", upload="processed"):
    return {
        "kind": "youtube#video",
        "id": key,
        "status": {"uploadStatus": upload, "privacyStatus": privacy, "embeddable": embeddable},
    }


def api_error(code, reason):
    return {"error": {"code": code, "message": reason, "errors": [{"reason": reason}]}}


@pytest.fixture
def with_key(tmdb, app):
    app.config["YOUTUBE_API_KEY"] = "yt-key"
    with app.app_context():
        yield youtube_client.get_client()


@pytest.fixture
def keyless(tmdb, app):
    with app.app_context():
        yield youtube_client.get_client()


def test_one_videos_list_call_answers_for_every_candidate(tmdb, with_key):
    tmdb.server.expect_request("/youtube/v3/videos").respond_with_json(
        {
            "items": [
                status(KEYS[0]),
                status(KEYS[1], embeddable=False),
                status(KEYS[2], privacy="unlisted"),
                status(KEYS[3], privacy="private"),
                status(KEYS[4], upload="uploaded"),  # still processing
                {"id": "<script>", "status": {"embeddable": True}},
            ]
        }
    )
    verdicts = with_key.statuses([*KEYS, "not a key!", KEYS[0]])
    assert verdicts == {
        KEYS[0]: YES,
        KEYS[1]: NO,
        KEYS[2]: YES,
        KEYS[3]: GONE,
        KEYS[4]: NO,
        KEYS[5]: GONE,
    }
    (request,) = tmdb.requests()
    assert request.args["part"] == "status" and request.args["key"] == "yt-key"
    assert request.args["id"] == ",".join(KEYS)


def test_no_well_formed_key_means_no_call(tmdb, with_key):
    assert with_key.statuses(["", "toolongtobeakey", "bad/key/.."]) == {}
    assert tmdb.requests() == []


@pytest.mark.parametrize(
    ("code", "verdict"), [(200, YES), (401, NO), (403, NO), (404, GONE), (400, GONE)]
)
def test_oembed_answers_by_status(tmdb, keyless, code, verdict):
    tmdb.server.expect_request("/oembed").respond_with_json({"title": "x"}, status=code)
    assert keyless.oembed(KEYS[0]) is verdict
    (request,) = tmdb.requests()
    assert request.args["url"] == f"https://www.youtube.com/watch?v={KEYS[0]}"
    assert request.args["format"] == "json"


def test_oembed_retries_an_outage_then_answers(tmdb, keyless):
    tmdb.server.expect_oneshot_request("/oembed").respond_with_data(
        "", status=503, headers={"Retry-After": "2"}
    )
    tmdb.server.expect_request("/oembed").respond_with_json({"title": "x"})
    assert keyless.oembed(KEYS[0]) is YES
    assert len(tmdb.requests()) == 2 and tmdb.sleeps[0] >= 2


def test_oembed_that_keeps_failing_is_unavailable(tmdb, keyless):
    tmdb.server.expect_request("/oembed").respond_with_data("", status=429)
    with pytest.raises(YouTubeUnavailable):
        keyless.oembed(KEYS[0])
    assert len(tmdb.requests()) == 3


def test_a_bad_key_never_reaches_oembed(tmdb, keyless):
    assert keyless.oembed("../../admin") is GONE
    assert tmdb.requests() == []


def test_quota_exceeded_stops_at_once_and_spends_the_day(tmdb, with_key):
    tmdb.server.expect_request("/youtube/v3/videos").respond_with_json(
        api_error(403, "quotaExceeded"), status=403
    )
    with pytest.raises(YouTubeQuotaExceeded):
        with_key.statuses(KEYS[:1])
    assert len(tmdb.requests()) == 1
    assert with_key.search_quota.used() == with_key.search_quota.limit
    with pytest.raises(YouTubeQuotaExceeded):
        with_key.search("Fight Club trailer")
    assert len(tmdb.requests()) == 1  # the search was never sent


@pytest.mark.parametrize(
    ("code", "reason", "error", "tries"),
    [
        (400, "keyInvalid", YouTubeAuthError, 1),
        (403, "forbidden", YouTubeAuthError, 1),
        (403, "rateLimitExceeded", YouTubeUnavailable, 3),
        (500, "backendError", YouTubeUnavailable, 3),
        (404, "videoNotFound", YouTubeError, 1),
    ],
)
def test_data_api_errors_are_typed(tmdb, with_key, code, reason, error, tries):
    tmdb.server.expect_request("/youtube/v3/videos").respond_with_json(
        api_error(code, reason), status=code
    )
    with pytest.raises(error):
        with_key.statuses(KEYS[:2])
    assert len(tmdb.requests()) == tries


def test_garbage_from_the_data_api_is_a_typed_error(tmdb, with_key):
    tmdb.server.expect_request("/youtube/v3/videos").respond_with_data("<html>", status=200)
    with pytest.raises(YouTubeError):
        with_key.statuses(KEYS[:1])


def test_search_spends_100_units_each_within_the_daily_budget(tmdb, app):
    app.config.update(YOUTUBE_API_KEY="yt-key", YOUTUBE_SEARCH_DAILY_UNITS=250)
    tmdb.server.expect_request("/youtube/v3/search").respond_with_json(
        {
            "items": [
                {"id": {"kind": "youtube#video", "videoId": KEYS[0]}},
                {"id": {"videoId": "javascript:x"}},
                {"id": {"videoId": KEYS[1]}},
            ]
        }
    )
    with app.app_context():
        yt = youtube_client.get_client()
        assert yt.search("Fight Club 1999 official trailer") == KEYS[:2]
        assert yt.search("Fight Club trailer") == KEYS[:2]
        with pytest.raises(YouTubeQuotaExceeded):
            yt.search("one too many")
        assert yt.search_quota.used() == 200
    searches = tmdb.requests("/youtube/v3/search")
    assert len(searches) == 2
    assert searches[0].args["q"] == "Fight Club 1999 official trailer"
    assert searches[0].args["videoEmbeddable"] == "true" and searches[0].args["type"] == "video"


def test_search_needs_a_key_and_spends_nothing_without_one(tmdb, keyless):
    with pytest.raises(YouTubeAuthError):
        keyless.search("anything")
    assert tmdb.requests() == []


PACIFIC_EVENING = datetime(2024, 3, 2, 7, 59, tzinfo=UTC)  # 23:59 on 1 March in Los Angeles


def test_the_quota_day_turns_at_midnight_in_los_angeles(app, db):
    clock = [PACIFIC_EVENING]
    quota = DailyQuota(f"test-{uuid.uuid4().hex}", 100, clock=lambda: clock[0])
    assert quota.spend(100) and not quota.spend(1)
    clock[0] += timedelta(minutes=2)  # 00:01 in Los Angeles, still 2 March in UTC
    assert quota.used() == 0 and quota.spend(100)
    assert quota_day(PACIFIC_EVENING).isoformat() == "2024-03-01"
    assert seconds_until_reset(PACIFIC_EVENING) == 60


def test_quota_days_follow_daylight_saving():
    # 10 March 2024: Los Angeles springs forward; the day is 23 hours long.
    start = datetime(2024, 3, 10, 8, 0, tzinfo=UTC)  # midnight PST
    assert seconds_until_reset(start) == 23 * 3600


def test_two_processes_share_the_quota_through_redis(app, db):
    url = need_redis()
    name = f"test-{uuid.uuid4().hex}"
    first = DailyQuota(name, 100, redis_url=url, key_prefix="aura-test:")
    second = DailyQuota(name, 100, redis_url=url, key_prefix="aura-test:")
    assert first.spend(60)
    assert not second.spend(60)  # would make 120
    assert second.spend(40) and second.used() == 100 and first.used() == 100
