"""Stale-while-revalidate rows and live TMDB search, for pages: never raise, never wait long."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from aura.errors import NotFound
from aura.extensions import cache
from aura.models import ListEntry, Movie
from aura.services import search, tmdb_refresh
from tests.factories import make_movie
from tests.fixtures.tmdb import recorded

POPULAR = [item["id"] for item in recorded("movies/popular.json")["results"]]
SEARCHED = [item["id"] for item in recorded("search/movie.json")["results"]]
LONG_AGO = datetime.now(UTC) - timedelta(days=2)


def saved_list(db, name="popular", fetched_at=LONG_AGO, count=25, **film_fields):
    """A list as an earlier sync left it: ``count`` films, fetched at ``fetched_at``."""
    movies = [
        make_movie(f"Old {n}", tmdb_id=800000 + n, source="tmdb", **film_fields)
        for n in range(count)
    ]
    for rank, movie in enumerate(movies, start=1):
        db.session.add(
            ListEntry(list_name=name, rank=rank, movie_id=movie.id, fetched_at=fetched_at)
        )
    db.session.commit()
    return movies


def ranks(db, name="popular"):
    db.session.rollback()  # see what another connection (the refresh) committed
    return list(
        db.session.execute(
            sa.select(Movie.tmdb_id, ListEntry.fetched_at)
            .join(ListEntry, ListEntry.movie_id == Movie.id)
            .where(ListEntry.list_name == name)
            .order_by(ListEntry.rank)
        ).all()
    )


def serve_popular(tmdb):
    tmdb.server.expect_request("/3/movie/popular").respond_with_json(
        recorded("movies/popular.json")
    )


def test_a_fresh_list_is_left_alone(tmdb, db):
    saved_list(db, fetched_at=datetime.now(UTC) - timedelta(minutes=5))
    status = tmdb_refresh.refresh_list_if_stale("popular", ttl=3600)
    assert (status.state, status.notice) == ("fresh", None)
    assert tmdb.requests() == []


def test_a_stale_list_is_refreshed_in_the_background_keeping_its_tail(tmdb, db):
    old = saved_list(db)
    serve_popular(tmdb)
    status = tmdb_refresh.refresh_list_if_stale("popular", ttl=3600)
    assert status.state == "refreshing" and status.notice is None
    status.worker.join(10)
    entries = ranks(db)
    assert [tmdb_id for tmdb_id, _ in entries[:20]] == POPULAR
    # The page-1 refresh keeps the rest of the synced list after it, as it was.
    assert [tmdb_id for tmdb_id, _ in entries[20:]] == [m.tmdb_id for m in old[20:]]
    assert all(at > LONG_AGO for _, at in entries[:20])
    assert all(at == LONG_AGO for _, at in entries[20:])
    assert len(tmdb.requests()) == 1


def test_refreshing_inline_within_a_budget(tmdb, db):
    saved_list(db, count=3)
    serve_popular(tmdb)
    status = tmdb_refresh.refresh_list_if_stale("popular", ttl=3600, background=False)
    assert status.state == "refreshed"
    # The three old films held ranks 1-3, which the new first page now fills.
    assert [tmdb_id for tmdb_id, _ in ranks(db)] == POPULAR


def test_a_list_never_fetched_is_fetched(tmdb, db):
    serve_popular(tmdb)
    status = tmdb_refresh.refresh_list_if_stale("popular", background=False)
    assert status.state == "refreshed" and [t for t, _ in ranks(db)] == POPULAR


def test_only_one_refresh_of_a_list_runs_at_a_time(tmdb, db):
    saved_list(db, count=2)
    cache.add("tmdb:refresh:popular", 1, timeout=60)  # another process is on it
    assert tmdb_refresh.refresh_list_if_stale("popular", ttl=3600).state == "busy"
    assert tmdb.requests() == []


def test_tmdb_down_shows_saved_data_and_stops_asking_for_a_while(tmdb, db):
    old = saved_list(db, count=3)
    tmdb.server.expect_request("/3/movie/popular").respond_with_data("", status=503)
    status = tmdb_refresh.refresh_list_if_stale("popular", ttl=3600, background=False)
    assert status.state == "stale"
    assert status.notice == "Showing saved data: TMDB is not answering right now."
    assert [t for t, _ in ranks(db)] == [m.tmdb_id for m in old]
    asked = len(tmdb.requests())
    assert tmdb_refresh.refresh_list_if_stale("popular", ttl=3600).state == "stale"
    assert len(tmdb.requests()) == asked


def test_a_hidden_film_stays_hidden_when_its_row_is_refreshed(tmdb, db):
    hidden = make_movie("Suicide Squad", tmdb_id=POPULAR[0], hidden=True, hidden_reason="dup")
    serve_popular(tmdb)
    tmdb_refresh.refresh_list_if_stale("popular", background=False)
    db.session.rollback()
    again = db.session.get(Movie, hidden.id)
    assert (again.hidden, again.hidden_reason) == (True, "dup")


def test_without_tmdb_or_with_an_unknown_row(tmdb, db, app):
    with pytest.raises(NotFound):
        tmdb_refresh.refresh_list_if_stale("best_ever")
    app.config.update(TMDB_API_KEY=None, TMDB_READ_TOKEN=None)
    assert tmdb_refresh.refresh_list_if_stale("popular").state == "off"
    assert tmdb_refresh.search_remote("avengers").state == "off"
    assert tmdb.requests() == []


# -- live search ------------------------------------------------------------------------------


def serve_search(tmdb):
    tmdb.server.expect_request("/3/search/movie").respond_with_json(recorded("search/movie.json"))


def test_search_stores_tmdb_results_and_returns_their_ids_in_order(tmdb, db):
    serve_search(tmdb)
    found = tmdb_refresh.search_remote("avengers")
    assert found.state == "fetched" and found.notice is None
    db.session.rollback()
    films = [db.session.get(Movie, movie_id) for movie_id in found.movie_ids]
    assert [m.tmdb_id for m in films] == SEARCHED
    lesbian_avengers = next(m for m in films if m.tmdb_id == 377364)
    assert lesbian_avengers.poster_path is None and lesbian_avengers.source == "tmdb"
    # Stored films are found by Aura's own search from now on.
    local = search.search_movies("Lesbian Avengers Eat Fire")
    assert [m.tmdb_id for m in local.movies][:1] == [377364]


def test_the_same_search_is_answered_from_the_cache(tmdb, db):
    serve_search(tmdb)
    first = tmdb_refresh.search_remote("avengers")
    again = tmdb_refresh.search_remote("  AVENGERS ")
    assert again.state == "cached" and again.movie_ids == first.movie_ids
    assert len(tmdb.requests()) == 1
    assert tmdb.requests()[0].args["query"] == "avengers"


def test_a_demo_film_found_by_search_is_merged(tmdb, db):
    demo = make_movie("The Avengers", source="demo", release_date=date(1998, 8, 14))
    serve_search(tmdb)
    found = tmdb_refresh.search_remote("avengers")
    db.session.rollback()
    assert demo.id in found.movie_ids
    assert db.session.get(Movie, demo.id).tmdb_id == 9320
    count = db.session.scalar(
        sa.select(sa.func.count()).where(Movie.title == "The Avengers", Movie.source == "tmdb")
    )
    assert count == 2  # 1998 merged into the demo film, 2012 added: no third


def test_hidden_films_are_left_out_of_search_results(tmdb, db):
    hidden = make_movie("The Avengers", tmdb_id=24428, hidden=True)
    serve_search(tmdb)
    assert hidden.id not in tmdb_refresh.search_remote("avengers").movie_ids
    assert hidden.id in tmdb_refresh.search_remote("avengers", include_hidden=True).movie_ids


def test_search_with_tmdb_down_says_so_and_never_raises(tmdb, db):
    tmdb.server.expect_request("/3/search/movie").respond_with_data("<html>", status=502)
    found = tmdb_refresh.search_remote("avengers")
    assert (found.state, found.movie_ids) == ("stale", [])
    assert found.notice == "Showing saved data: TMDB is not answering right now."


@pytest.mark.parametrize("query", ["", "a", "   ", "\x00\x00", None])
def test_empty_queries_ask_nothing(tmdb, db, query):
    assert tmdb_refresh.search_remote(query).state == "empty"
    assert tmdb.requests() == []
