"""Trailer choice: ranking, every embeddability fallback, the TTL, outages and the time budget."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aura.clients.tmdb_types import Video
from aura.extensions import cache
from aura.models import Movie
from aura.services import trailers
from tests.factories import make_movie
from tests.fixtures.tmdb import recorded

OFFICIAL, UNOFFICIAL = "BdJKm16Co6M", "6JnN1DmbqoU"  # the recorded videos of film 550


def video(
    key, type="Trailer", official=True, language="en", published="2020-01-01", site="YouTube"
):
    return Video(
        key=key,
        site=site,
        type=type,
        official=official,
        language=language,
        published_at=datetime.fromisoformat(published).replace(tzinfo=UTC),
    )


def test_candidates_rank_official_trailers_in_our_language_newest_first():
    ranked = trailers.rank_candidates(
        [
            video("aaaaaaaaaaa", official=False),
            video("bbbbbbbbbbb", type="Teaser"),
            video("ccccccccccc", language="fr", published="2023-01-01"),
            video("ddddddddddd", published="2019-01-01"),
            video("eeeeeeeeeee", published="2021-01-01"),
            video("fffffffffff", type="Featurette"),
            video("ggggggggggg", site="Vimeo"),
            video("<script>x</script>"),
            video("hhhhhhhhhhh", type="Teaser", official=False),
        ],
        "en",
    )
    assert [v.key for v in ranked] == [
        "eeeeeeeeeee",  # official trailer in English, newest
        "ddddddddddd",
        "ccccccccccc",  # official trailer in French
        "bbbbbbbbbbb",  # official teaser
        "aaaaaaaaaaa",  # unofficial trailer
        "hhhhhhhhhhh",
    ]


@pytest.fixture
def fight_club(tmdb, db):
    tmdb.server.expect_request("/3/movie/550/videos").respond_with_json(
        recorded("movies/videos.json")
    )
    return make_movie("Fight Club", tmdb_id=550, source="tmdb")


def saved(db, movie_id):
    """The film as the database has it (the trailer is written on a connection of its own)."""
    db.session.rollback()
    return db.session.get(Movie, movie_id)


def oembed_answers(tmdb, answers: dict[str, int]):
    def answer(request: Request) -> Response:
        key = request.args["url"].rsplit("=", 1)[-1]
        return Response("{}", status=answers.get(key, 404), content_type="application/json")

    tmdb.server.expect_request("/oembed").respond_with_handler(answer)


def oembed_keys(tmdb):
    return [r.args["url"].rsplit("=", 1)[-1] for r in tmdb.requests("/oembed")]


def test_keyless_the_best_candidate_that_embeds_is_kept(tmdb, db, fight_club):
    oembed_answers(tmdb, {OFFICIAL: 200, UNOFFICIAL: 200})
    status = trailers.ensure_trailer(fight_club)
    assert (status.state, status.embed_key, status.notice) == ("checked", OFFICIAL, None)
    assert oembed_keys(tmdb) == [OFFICIAL]  # the first that embeds ends the search
    stored = saved(db, fight_club.id)
    assert (stored.trailer_key, stored.trailer_embeddable) == (OFFICIAL, True)
    assert stored.trailer_checked_at is not None


def test_keyless_a_refused_embed_falls_back_to_the_next_candidate(tmdb, db, fight_club):
    oembed_answers(tmdb, {OFFICIAL: 401, UNOFFICIAL: 200})
    assert trailers.ensure_trailer(fight_club).embed_key == UNOFFICIAL
    assert oembed_keys(tmdb) == [OFFICIAL, UNOFFICIAL]


def test_keyless_a_gone_video_falls_back_too(tmdb, db, fight_club):
    oembed_answers(tmdb, {OFFICIAL: 404, UNOFFICIAL: 200})
    assert trailers.ensure_trailer(fight_club).embed_key == UNOFFICIAL


def test_when_nothing_embeds_the_best_existing_video_is_kept_as_not_embeddable(
    tmdb, db, fight_club
):
    oembed_answers(tmdb, {OFFICIAL: 404, UNOFFICIAL: 403})
    status = trailers.ensure_trailer(fight_club)
    assert (status.key, status.embeddable, status.embed_key) == (UNOFFICIAL, False, None)
    assert saved(db, fight_club.id).trailer_embeddable is False


def test_when_every_video_is_gone_there_is_no_trailer(tmdb, db, fight_club):
    oembed_answers(tmdb, {})
    status = trailers.ensure_trailer(fight_club)
    assert (status.key, status.embeddable, status.state) == (None, None, "checked")
    stored = saved(db, fight_club.id)
    assert stored.trailer_key is None and stored.trailer_checked_at is not None


def status_item(key, embeddable=True):
    return {
        "id": key,
        "status": {
            "embeddable": embeddable,
            "privacyStatus": "public",
            "uploadStatus": "processed",
        },
    }


def test_with_a_key_one_videos_list_call_checks_every_candidate(tmdb, db, fight_club, app):
    app.config["YOUTUBE_API_KEY"] = "yt-key"
    tmdb.server.expect_request("/youtube/v3/videos").respond_with_json(
        {"items": [status_item(OFFICIAL, embeddable=False), status_item(UNOFFICIAL)]}
    )
    assert trailers.ensure_trailer(fight_club).embed_key == UNOFFICIAL
    (call,) = tmdb.requests("/youtube/v3/videos")
    assert call.args["id"] == f"{OFFICIAL},{UNOFFICIAL}" and call.args["part"] == "status"
    assert tmdb.requests("/oembed") == []


def test_a_spent_data_api_quota_falls_back_to_oembed(tmdb, db, fight_club, app):
    app.config["YOUTUBE_API_KEY"] = "yt-key"
    tmdb.server.expect_request("/youtube/v3/videos").respond_with_json(
        {"error": {"code": 403, "errors": [{"reason": "quotaExceeded"}]}}, status=403
    )
    oembed_answers(tmdb, {OFFICIAL: 200})
    assert trailers.ensure_trailer(fight_club).embed_key == OFFICIAL
    assert tmdb.requests("/youtube/v3/search") == []  # no budget left for a search either


def test_search_is_the_last_resort_and_is_paid_from_the_daily_budget(tmdb, db, app):
    app.config.update(YOUTUBE_API_KEY="yt-key", YOUTUBE_SEARCH_DAILY_UNITS=100)
    tmdb.server.expect_request("/3/movie/11/videos").respond_with_json({"id": 11, "results": []})
    tmdb.server.expect_request("/3/movie/12/videos").respond_with_json({"id": 12, "results": []})
    tmdb.server.expect_request("/youtube/v3/search").respond_with_json(
        {"items": [{"id": {"videoId": "sssssssssss"}}, {"id": {"videoId": "ttttttttttt"}}]}
    )
    tmdb.server.expect_request("/youtube/v3/videos").respond_with_json(
        {"items": [status_item("sssssssssss", embeddable=False), status_item("ttttttttttt")]}
    )
    first = make_movie("Obscure Film", tmdb_id=11, source="tmdb")
    second = make_movie("Another One", tmdb_id=12, source="tmdb")
    assert trailers.ensure_trailer(first).embed_key == "ttttttttttt"
    (search,) = tmdb.requests("/youtube/v3/search")
    assert search.args["q"] == "Obscure Film 2000 official trailer"
    # The day's budget (one search) is spent: the next film gets no search, and no trailer.
    status = trailers.ensure_trailer(second)
    assert (status.key, status.state) == (None, "checked")
    assert len(tmdb.requests("/youtube/v3/search")) == 1


def test_no_search_without_a_search_budget(tmdb, db, app, fight_club):
    app.config.update(YOUTUBE_API_KEY="yt-key", YOUTUBE_SEARCH_DAILY_UNITS=0)
    tmdb.server.expect_request("/youtube/v3/videos").respond_with_json({"items": []})
    assert trailers.ensure_trailer(fight_club).key is None
    assert tmdb.requests("/youtube/v3/search") == []


def test_a_recent_check_is_trusted_and_an_old_one_is_redone(tmdb, db, fight_club):
    oembed_answers(tmdb, {OFFICIAL: 200})
    recent = make_movie(
        "Recent",
        tmdb_id=551,
        trailer_key=UNOFFICIAL,
        trailer_embeddable=True,
        trailer_checked_at=datetime.now(UTC) - timedelta(days=6),
    )
    status = trailers.ensure_trailer(recent)
    assert (status.state, status.embed_key) == ("fresh", UNOFFICIAL)
    assert tmdb.requests() == []
    fight_club.trailer_checked_at = datetime.now(UTC) - timedelta(days=8)
    fight_club.trailer_key = UNOFFICIAL
    db.session.commit()
    assert trailers.ensure_trailer(fight_club).state == "checked"
    assert saved(db, fight_club.id).trailer_key == OFFICIAL


def test_tmdb_down_keeps_what_the_database_has_and_stops_asking(tmdb, db):
    tmdb.server.expect_request("/3/movie/550/videos").respond_with_data("", status=503)
    movie = make_movie("Fight Club", tmdb_id=550, trailer_key=OFFICIAL, trailer_embeddable=True)
    status = trailers.ensure_trailer(movie)
    assert (status.state, status.embed_key) == ("stale", OFFICIAL)
    assert "not answering" in status.notice
    asked = len(tmdb.requests())
    assert trailers.ensure_trailer(movie).state == "stale"
    assert len(tmdb.requests()) == asked  # during the outage pages stop waiting on TMDB


def test_youtube_down_keeps_the_saved_trailer(tmdb, db, fight_club):
    tmdb.server.expect_request("/oembed").respond_with_data("", status=500)
    fight_club.trailer_key, fight_club.trailer_embeddable = UNOFFICIAL, True
    db.session.commit()
    status = trailers.ensure_trailer(fight_club)
    assert (status.state, status.embed_key) == ("stale", UNOFFICIAL)
    assert saved(db, fight_club.id).trailer_checked_at is None


def test_a_slow_tmdb_is_cut_off_by_the_budget(tmdb, db, app):
    slow = HTTPServer(threaded=True)
    slow.start()
    release = threading.Event()

    def answer(request):
        release.wait(5)
        return Response("{}", content_type="application/json")

    slow.expect_request("/3/movie/550/videos").respond_with_handler(answer)
    app.config["TMDB_API_BASE"] = slow.url_for("/3")
    movie = make_movie("Fight Club", tmdb_id=550)
    try:
        status = trailers.ensure_trailer(movie, budget_seconds=0.3)
    finally:
        release.set()
        slow.stop()
    assert status.state == "stale" and status.key is None


def test_hostile_video_keys_are_never_asked_about_or_stored(tmdb, db):
    tmdb.server.expect_request("/3/movie/550/videos").respond_with_json(
        {
            "id": 550,
            "results": [
                {"key": "../../admin", "site": "YouTube", "type": "Trailer", "official": True},
                {"key": "x" * 12, "site": "YouTube", "type": "Trailer", "official": True},
                {"key": "abc&v=evil1", "site": "YouTube", "type": "Trailer"},
                {"key": "goodgoodgoo", "site": "YouTube", "type": "Trailer"},
            ],
        }
    )
    oembed_answers(tmdb, {"goodgoodgoo": 200})
    movie = make_movie("Fight Club", tmdb_id=550)
    assert trailers.ensure_trailer(movie).embed_key == "goodgoodgoo"
    assert oembed_keys(tmdb) == ["goodgoodgoo"]


def test_another_request_checking_the_same_film_is_not_repeated(tmdb, db, fight_club):
    cache.add(f"trailers:checking:{fight_club.id}", 1, timeout=30)
    assert trailers.ensure_trailer(fight_club).state == "busy"
    assert tmdb.requests() == []


def test_without_tmdb_nothing_is_asked(tmdb, db, app):
    app.config.update(TMDB_API_KEY=None, TMDB_READ_TOKEN=None)
    movie = make_movie("Demo Film", source="demo")
    assert trailers.ensure_trailer(movie).state == "off"
    assert tmdb.requests() == []


def test_the_callers_session_keeps_its_loaded_film(tmdb, db, fight_club):
    """The film page loads genres eagerly; the trailer write must not expire its objects."""
    oembed_answers(tmdb, {OFFICIAL: 200})
    movie = db.session.scalar(
        sa.select(Movie).where(Movie.id == fight_club.id).options(sa.orm.selectinload(Movie.genres))
    )
    trailers.ensure_trailer(movie)
    assert movie.genres == [] and movie.trailer_key == OFFICIAL  # no lazy load, no error
