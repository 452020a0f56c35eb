"""The TMDB client against a local server answering with real recorded bodies."""

from __future__ import annotations

import json
import threading
import time
from datetime import date

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from aura.clients import tmdb as tmdb_client
from aura.clients.errors import (
    TMDBAuthError,
    TMDBNotConfigured,
    TMDBNotFound,
    TMDBPageOutOfRange,
    TMDBProtocolError,
    TMDBRateLimited,
    TMDBRequestError,
    TMDBUnavailable,
)
from aura.clients.tmdb_types import MovieSummary
from aura.errors import UpstreamUnavailable
from tests.fixtures.tmdb import API_KEY, LIST_FILES, details_body, recorded, tmdb_error


@pytest.fixture
def api(tmdb, app):
    with app.app_context():
        yield tmdb_client.get_client()


def only(tmdb, path):
    seen = tmdb.requests(path)
    assert len(seen) == 1, [r.url for r in tmdb.requests()]
    return seen[0]


@pytest.mark.parametrize("name", sorted(LIST_FILES))
def test_each_list_reads_its_recorded_page(tmdb, api, name):
    path, file = LIST_FILES[name]
    body = recorded(file)
    tmdb.server.expect_request(path).respond_with_json(body)
    page = api.movie_list(name, page=1)
    assert [movie.id for movie in page.results] == [item["id"] for item in body["results"]]
    assert [movie.title for movie in page.results] == [item["title"] for item in body["results"]]
    assert page.total_pages == min(body["total_pages"], 500)
    assert page.skipped == 0
    sent = only(tmdb, path).args
    assert (sent["page"], sent["language"], sent["api_key"]) == ("1", "en-US", API_KEY)
    assert ("region" in sent) is (name != "trending")


def test_total_pages_above_500_are_reported_as_500(tmdb, api):
    body = recorded("trending/movie.json")  # total_pages 1000
    tmdb.server.expect_request("/3/trending/movie/week").respond_with_json(body)
    assert api.movie_list("trending").total_pages == 500
    body = recorded("movies/popular.json") | {"total_pages": 0, "page": -3}
    tmdb.server.expect_request("/3/movie/popular").respond_with_json(body)
    page = api.movie_list("popular")
    assert (page.page, page.total_pages) == (1, 1)


@pytest.mark.parametrize(
    ("asked", "sent"), [(0, "1"), (-5, "1"), (1, "1"), (499, "499"), (501, "500"), (10**30, "500")]
)
def test_pages_asked_for_are_clamped_to_1_through_500(tmdb, api, asked, sent):
    tmdb.server.expect_request("/3/movie/top_rated").respond_with_json(
        recorded("movies/top_rated.json")
    )
    api.movie_list("top_rated", page=asked)
    assert only(tmdb, "/3/movie/top_rated").args["page"] == sent


def test_recorded_details_keep_a_null_poster_and_read_the_appended_parts(tmdb, api):
    tmdb.server.expect_request("/3/movie/550").respond_with_json(details_body(550))
    film = api.movie(550)
    assert (film.id, film.title, film.runtime, film.release_date) == (
        550,
        "Fight Club",
        139,
        date(1999, 10, 12),
    )
    assert film.poster_path is None and film.backdrop_path == "/fCayJrkfRaCRCTh8GqN30f8oyQF.jpg"
    assert film.tagline == "How much can you know about yourself if you've never been in a fight?"
    assert [genre.name for genre in film.genres] == ["Drama"] and film.genre_ids == (18,)
    assert film.directors == ("Director 550",)
    assert film.certification("US") == "R"  # the empty US premiere rating is skipped
    assert film.certification("DE") == "16"
    assert film.certification("FR") == "R"  # no French rating: the US one
    assert [video.youtube_key for video in film.videos] == ["6JnN1DmbqoU", "BdJKm16Co6M"]
    assert (film.vote_average, film.vote_count, film.imdb_id) == (7.8, 3439, "tt0137523")
    assert only(tmdb, "/3/movie/550").args["append_to_response"] == "credits,release_dates,videos"


def test_certification_falls_back_to_the_first_non_empty_one(tmdb, api):
    body = details_body(550)
    body["release_dates"]["results"] = [
        {"iso_3166_1": "GB", "release_dates": [{"certification": ""}]},
        {"iso_3166_1": "BR", "release_dates": [{"certification": "18"}]},
    ]
    tmdb.server.expect_request("/3/movie/550").respond_with_json(body)
    assert api.movie(550).certification("US") == "18"


def test_recorded_videos_search_genres_and_configuration(tmdb, api):
    tmdb.server.expect_request("/3/movie/550/videos").respond_with_json(
        recorded("movies/videos.json")
    )
    tmdb.server.expect_request("/3/search/movie").respond_with_json(recorded("search/movie.json"))
    tmdb.server.expect_request("/3/genre/movie/list").respond_with_json(
        recorded("genres/movie_list.json")
    )
    tmdb.server.expect_request("/3/configuration").respond_with_json(
        recorded("configuration/api.json")
    )
    videos = api.videos(550)
    assert [(v.key, v.official, v.type) for v in videos] == [
        ("6JnN1DmbqoU", False, "Trailer"),
        ("BdJKm16Co6M", True, "Trailer"),
    ]
    found = api.search("avengers")
    assert len(found.results) == 14 and found.total_pages == 1
    lesbian_avengers = next(m for m in found.results if m.id == 377364)
    assert lesbian_avengers.poster_path is None and lesbian_avengers.backdrop_path is None
    assert only(tmdb, "/3/search/movie").args["query"] == "avengers"
    assert [(g.id, g.name) for g in api.genres()] == [(28, "Action")]
    images = api.configuration(("image.tmdb.org",))
    assert images.secure_base_url == "https://image.tmdb.org/t/p/" and "w342" in images.sizes


def test_an_empty_search_asks_nothing(tmdb, api):
    assert api.search("   \x00 ").results == ()
    assert tmdb.requests() == []


HOSTILE = [
    {"id": 1, "title": "<script>alert(1)</script>", "release_date": ""},
    {"id": 2, "title": '<div hx-get="/supervisor/users" hx-trigger="load">x</div>'},
    {"id": 3, "title": "千と千尋の神隠し", "original_title": "千と千尋の神隠し"},
    {"id": 4, "title": "\u202eevil\u202c \u05e9\u05dc\u05d5\u05dd\u200f"},
    {"id": 5, "original_title": "Only an original title"},
    {"title": "No id at all"},
    {"id": "6", "title": "A string id"},
    {"id": 2**40, "title": "An id past 32 bits"},
    {"id": 7, "title": "   "},
    "not even an object",
    {"id": 8, "title": "Bad numbers", "vote_average": 11, "vote_count": -1, "popularity": -5},
    {
        "id": 9,
        "title": "Odd paths",
        "poster_path": "https://evil.example/x.jpg",
        "backdrop_path": "/../../etc/passwd.jpg",
    },
    {
        "id": 10,
        "title": "More paths",
        "poster_path": "//evil.example/a.jpg",
        "backdrop_path": "/abc.jpg?x=1",
    },
    {"id": 11, "title": "Bad dates", "release_date": "2039-02-30"},
    # Arabic-Indic digits, which Python's \\d would read as 2020-01-01
    {"id": 12, "title": "Unicode digits", "release_date": "\u0662\u0660\u0662\u0660-01-01"},
    {"id": 13, "title": "NUL\x00and\ttab", "overview": "line one\n\nline\x07 two"},
    {"id": 14, "title": "Unvoted", "vote_average": 0.0, "vote_count": 0},
]


def test_derived_bodies_keep_hostile_and_non_latin_text_as_plain_text(tmdb, api):
    body = recorded("movies/popular.json") | {"results": HOSTILE}
    tmdb.server.expect_request("/3/movie/popular").respond_with_json(body)
    page = api.movie_list("popular")
    films = {movie.id: movie for movie in page.results}
    assert sorted(films) == [1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14]
    assert page.skipped == 5
    assert films[1].title == "<script>alert(1)</script>" and films[1].release_date is None
    assert films[2].title == '<div hx-get="/supervisor/users" hx-trigger="load">x</div>'
    assert films[3].title == "千と千尋の神隠し"
    # Overrides (which reorder what follows) are dropped; a plain right-to-left mark stays.
    assert films[4].title == "evil \u05e9\u05dc\u05d5\u05dd\u200f"
    assert films[5].title == "Only an original title"
    assert (films[8].vote_average, films[8].vote_count, films[8].popularity) == (None, None, 0.0)
    for number in (9, 10):
        assert films[number].poster_path is None and films[number].backdrop_path is None
    assert films[11].release_date is None and films[12].release_date is None
    assert films[13].title == "NUL and tab" and films[13].overview == "line one\nline two"
    assert films[14].vote_average is None


def test_a_summary_survives_missing_fields():
    film = MovieSummary.from_json({"id": 42, "title": "Bare"})
    assert (film.overview, film.release_date, film.poster_path, film.genre_ids) == (
        None,
        None,
        None,
        (),
    )


def test_bad_key_is_refused_at_once_without_retries(tmdb, api):
    tmdb.server.expect_request("/3/movie/popular").respond_with_json(
        tmdb_error(7, "Invalid API key: You must be granted a valid key."), status=401
    )
    with pytest.raises(TMDBAuthError, match="AURA_TMDB_API_KEY") as raised:
        api.movie_list("popular")
    assert "Invalid API key" in raised.value.message
    assert len(tmdb.requests()) == 1 and tmdb.sleeps == []
    assert isinstance(raised.value, UpstreamUnavailable)


def test_a_suspended_key_is_an_auth_error_too(tmdb, api):
    tmdb.server.expect_request("/3/genre/movie/list").respond_with_json(
        tmdb_error(10, "Suspended API key: Access to your account has been suspended."),
        status=401,
    )
    with pytest.raises(TMDBAuthError):
        api.genres()
    assert len(tmdb.requests()) == 1


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, tmdb_error(34, "The resource you requested could not be found."), TMDBNotFound),
        (422, tmdb_error(22, "Invalid page: Pages start at 1 and max at 500."), TMDBPageOutOfRange),
        (400, {"errors": ["query must be provided"]}, TMDBRequestError),
        (404, "<html>not here</html>", TMDBNotFound),
    ],
)
def test_other_refusals_are_typed_and_never_retried(tmdb, api, status, body, error):
    handler = tmdb.server.expect_request("/3/movie/550")
    if isinstance(body, dict):
        handler.respond_with_json(body, status=status)
    else:
        handler.respond_with_data(body, status=status, content_type="text/html")
    with pytest.raises(error):
        api.movie(550)
    assert len(tmdb.requests()) == 1


def test_429_waits_at_least_retry_after_then_succeeds(tmdb, api):
    tmdb.server.expect_oneshot_request("/3/movie/popular").respond_with_json(
        tmdb_error(25, "Your request count (41) is over the allowed limit of 40."),
        status=429,
        headers={"Retry-After": "7"},
    )
    tmdb.server.expect_request("/3/movie/popular").respond_with_json(
        recorded("movies/popular.json")
    )
    assert len(api.movie_list("popular").results) == 20
    assert len(tmdb.requests()) == 2
    assert tmdb.sleeps and tmdb.sleeps[0] >= 7


def test_retry_after_as_an_http_date_is_honoured(tmdb, api):
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 12))
    tmdb.server.expect_oneshot_request("/3/movie/popular").respond_with_data(
        "slow down", status=429, headers={"Retry-After": when}
    )
    tmdb.server.expect_request("/3/movie/popular").respond_with_json(
        recorded("movies/popular.json")
    )
    api.movie_list("popular")
    assert 10 <= tmdb.sleeps[0] <= 12


def test_retry_after_is_capped(tmdb, api, app):
    app.config["HTTP_RETRY_AFTER_CAP"] = 30.0
    tmdb.server.expect_request("/3/movie/popular").respond_with_data(
        "", status=429, headers={"Retry-After": "86400"}
    )
    with app.app_context():
        capped = tmdb_client.get_client()
        with pytest.raises(TMDBRateLimited):
            capped.movie_list("popular")
    assert tmdb.sleeps == [30.0, 30.0]


def test_429_forever_gives_up_after_a_bounded_number_of_tries(tmdb, api):
    tmdb.server.expect_request("/3/movie/popular").respond_with_json(
        tmdb_error(25, "over the limit"), status=429, headers={"Retry-After": "1"}
    )
    with pytest.raises(TMDBRateLimited) as raised:
        api.movie_list("popular")
    assert isinstance(raised.value, TMDBUnavailable)
    assert len(tmdb.requests()) == 3  # HTTP_MAX_TRIES in the fixture
    assert tmdb.sleeps == [1.0, 1.0]


def test_a_real_wait_of_retry_after_between_the_two_requests(tmdb, app, monkeypatch):
    """Without the recorder: the second request arrives at least Retry-After after the first."""
    monkeypatch.setattr("aura.clients.http.pause", time.sleep)
    arrivals = []

    def answer(request):
        arrivals.append(time.monotonic())
        if len(arrivals) == 1:
            return Response("", status=429, headers={"Retry-After": "1"})
        return Response(
            json.dumps(recorded("movies/popular.json")), content_type="application/json"
        )

    tmdb.server.expect_request("/3/movie/popular").respond_with_handler(answer)
    with app.app_context():
        tmdb_client.get_client().movie_list("popular")
    assert len(arrivals) == 2 and arrivals[1] - arrivals[0] >= 1.0


def test_5xx_then_success(tmdb, api):
    tmdb.server.expect_oneshot_request("/3/genre/movie/list").respond_with_data(
        "<html>502 Bad Gateway</html>", status=502, content_type="text/html"
    )
    tmdb.server.expect_oneshot_request("/3/genre/movie/list").respond_with_json(
        tmdb_error(46, "The API is undergoing maintenance."), status=503
    )
    tmdb.server.expect_request("/3/genre/movie/list").respond_with_json(
        recorded("genres/movie_list.json")
    )
    assert [genre.name for genre in api.genres()] == ["Action"]
    assert len(tmdb.requests()) == 3


@pytest.mark.parametrize("code", [9, 24, 43, 46])
def test_backend_trouble_codes_are_retried_then_unavailable(tmdb, api, code):
    tmdb.server.expect_request("/3/movie/550").respond_with_json(
        tmdb_error(code, "Service offline."), status=200 if code == 24 else 503
    )
    with pytest.raises(TMDBUnavailable, match="TMDB is having trouble"):
        api.movie(550)
    assert len(tmdb.requests()) == 3


def test_a_read_timeout_is_retried_then_reported(tmdb, app):
    # A server of its own, threaded: the slow answers must not hold up the next test's server.
    slow_server = HTTPServer(threaded=True)
    slow_server.start()
    release = threading.Event()

    def slow(request):
        release.wait(5)
        return Response("{}", content_type="application/json")

    slow_server.expect_request("/3/movie/550").respond_with_handler(slow)
    app.config.update(
        TMDB_API_BASE=slow_server.url_for("/3"), HTTP_READ_TIMEOUT=0.2, HTTP_MAX_TRIES=2
    )
    try:
        with app.app_context(), pytest.raises(TMDBUnavailable, match="timed out") as raised:
            tmdb_client.get_client().movie(550)
    finally:
        release.set()
        slow_server.stop()
    assert API_KEY not in raised.value.message
    assert len(slow_server.log) <= 2 and len(tmdb.sleeps) == 1


def test_connection_refused_is_unavailable_and_never_shows_the_key(tmdb, app):
    app.config["TMDB_API_BASE"] = "http://127.0.0.1:9/3"  # the discard port: nothing listens
    with app.app_context(), pytest.raises(TMDBUnavailable, match="could not connect") as raised:
        tmdb_client.get_client().movie(550)
    assert API_KEY not in str(raised.value) and raised.value.__cause__ is None
    assert len(tmdb.sleeps) == 2


@pytest.mark.parametrize(
    "garbage",
    [
        b"<html>Cloudflare says hi</html>",
        b'{"page": 1, "results": [',
        b"[1, 2, 3]",
        b"\xff\xfe\x00",
        b"[" * 100_000,
    ],
)
def test_garbage_bodies_are_a_typed_error_not_a_traceback(tmdb, api, garbage):
    tmdb.server.expect_request("/3/movie/popular").respond_with_data(
        garbage, content_type="application/json"
    )
    with pytest.raises(TMDBProtocolError):
        api.movie_list("popular")
    assert len(tmdb.requests()) == 1


def test_json_of_the_wrong_shape_is_a_protocol_error(tmdb, api):
    tmdb.server.expect_request("/3/movie/popular").respond_with_json({"page": 1, "results": "no"})
    tmdb.server.expect_request("/3/movie/550").respond_with_json([{"id": 550}])
    with pytest.raises(TMDBProtocolError):
        api.movie_list("popular")
    with pytest.raises(TMDBProtocolError):
        api.movie(550)


def test_an_oversized_body_is_refused(tmdb, api):
    tmdb.server.expect_request("/3/movie/popular").respond_with_data(
        b'{"results": [' + b" " * (5 * 1024 * 1024) + b"]}", content_type="application/json"
    )
    with pytest.raises(TMDBProtocolError):
        api.movie_list("popular")


def test_redirects_are_not_followed(tmdb, api):
    tmdb.server.expect_request("/3/movie/550").respond_with_data(
        "", status=302, headers={"Location": tmdb.server.url_for("/elsewhere")}
    )
    with pytest.raises(TMDBProtocolError):
        api.movie(550)
    assert [r.path for r in tmdb.requests()] == ["/3/movie/550"]


def test_api_key_goes_in_the_query_and_a_read_token_in_a_bearer_header(tmdb, app):
    tmdb.server.expect_request("/3/genre/movie/list").respond_with_json(
        recorded("genres/movie_list.json")
    )
    with app.app_context():
        tmdb_client.get_client().genres()
        app.config.update(TMDB_API_KEY=None, TMDB_READ_TOKEN="v4-read-token")
        tmdb_client.get_client().genres()
    by_key, by_token = tmdb.requests()
    assert by_key.args["api_key"] == API_KEY and "Authorization" not in by_key.headers
    assert by_token.headers["Authorization"] == "Bearer v4-read-token"
    assert "api_key" not in by_token.args


def test_no_key_means_no_client_and_no_request(tmdb, app):
    app.config.update(TMDB_API_KEY=None, TMDB_READ_TOKEN=None)
    with app.app_context():
        assert not tmdb_client.is_configured()
        with pytest.raises(TMDBNotConfigured):
            tmdb_client.get_client()
    assert tmdb.requests() == []


def test_changes_ask_for_at_most_14_days(tmdb, api):
    tmdb.server.expect_request("/3/movie/changes").respond_with_json(
        {
            "results": [{"id": 550, "adult": False}, {"id": "x"}, {"id": 550}],
            "page": 1,
            "total_pages": 3,
        }
    )
    page = api.changes(date(2020, 1, 1), date(2024, 3, 20))
    assert page.ids == (550,) and page.total_pages == 3
    sent = only(tmdb, "/3/movie/changes").args
    assert (sent["start_date"], sent["end_date"]) == ("2024-03-06", "2024-03-20")
