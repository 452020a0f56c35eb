"""`aura sync-tmdb` and the sync service, against the local TMDB with the recorded bodies."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug import Response

from aura.clients.errors import TMDBUnavailable
from aura.models import Genre, ListEntry, Movie, SyncRun, movie_genre
from aura.services import tmdb_sync
from tests.factories import make_genre, make_movie, make_supervisor
from tests.fixtures.tmdb import (
    DETAILS_PATH as DETAILS,
)
from tests.fixtures.tmdb import (
    LIST_FILES,
    details_body,
    list_items,
    recorded,
    tmdb_error,
    youtube_key,
)

LISTED = {
    name: [item["id"] for item in recorded(file)["results"]]
    for name, (_, file) in LIST_FILES.items()
}
UNIQUE = len({tmdb_id for ids in LISTED.values() for tmdb_id in ids})


def serve_oembed(tmdb, status=200):
    tmdb.server.expect_request("/oembed").respond_with_json({"title": "t"}, status=status)


def film(db, tmdb_id: int) -> Movie:
    db.session.expire_all()
    return db.session.scalar(sa.select(Movie).where(Movie.tmdb_id == tmdb_id))


def ranks(db, name: str) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(Movie.tmdb_id)
            .join(ListEntry, ListEntry.movie_id == Movie.id)
            .where(ListEntry.list_name == name)
            .order_by(ListEntry.rank)
        )
    )


def test_a_full_sync_fills_genres_lists_and_details(tmdb, db):
    action = make_genre("Action")  # as the demo catalog would have it
    tmdb.serve_catalog()
    report = tmdb_sync.sync(trailers_too=False)

    assert (report.added, report.updated, report.unchanged, report.failed) == (UNIQUE, 0, 0, 0)
    for name, ids in LISTED.items():
        assert ranks(db, name) == ids, name
    db.session.expire_all()
    assert db.session.get(Genre, action.id).tmdb_id == 28
    assert db.session.scalar(sa.select(sa.func.count()).where(Genre.name == "Action")) == 1

    fight_club = film(db, 550)
    assert (fight_club.source, fight_club.runtime, fight_club.director) == (
        "tmdb",
        139,
        "Director 550",
    )
    assert fight_club.certification == "R"
    assert fight_club.tagline.startswith("How much can you know about yourself")
    # The details have a null poster; the top-rated list had one, and null never erases it.
    assert fight_club.poster_path == "/811DjJTon9gD6hZ8nCjSitaIXFQ.jpg"
    assert fight_club.release_date == date(1999, 10, 12)
    genre_names = db.session.scalars(
        sa.select(Genre.name)
        .join(movie_genre, movie_genre.c.genre_id == Genre.id)
        .where(movie_genre.c.movie_id == fight_club.id)
    )
    assert list(genre_names) == ["Drama"]
    assert fight_club.popular_score == pytest.approx(fight_club.popularity)  # scores recomputed

    run = tmdb_sync.last_run()
    assert (run.kind, run.status, run.added, run.failed, run.message) == (
        "full",
        "ok",
        UNIQUE,
        0,
        None,
    )
    assert run.detail["lists"] == {name: 20 for name in LISTED} and run.finished_at


def test_the_second_run_adds_nothing_and_changes_nothing(tmdb, db):
    tmdb.serve_catalog()
    tmdb_sync.sync(trailers_too=False)
    before = {m.tmdb_id: (m.id, m.updated_at) for m in db.session.scalars(sa.select(Movie))}
    again = tmdb_sync.sync(trailers_too=False)
    assert (again.added, again.updated, again.unchanged, again.failed) == (0, 0, UNIQUE, 0)
    db.session.expire_all()
    after = {m.tmdb_id: (m.id, m.updated_at) for m in db.session.scalars(sa.select(Movie))}
    assert after == before
    assert ranks(db, "popular") == LISTED["popular"]


def test_a_hidden_film_stays_hidden(tmdb, db):
    boss = make_supervisor()
    hidden_at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    make_movie(
        "Fight Club",
        tmdb_id=550,
        source="tmdb",
        hidden=True,
        hidden_by_id=boss.id,
        hidden_at=hidden_at,
        hidden_reason="spoilers in the overview",
    )
    tmdb.serve_catalog()
    tmdb_sync.sync(trailers_too=False)
    fight_club = film(db, 550)
    assert fight_club.runtime == 139  # refreshed...
    assert (fight_club.hidden, fight_club.hidden_by_id, fight_club.hidden_at) == (
        True,
        boss.id,
        hidden_at,
    )
    assert fight_club.hidden_reason == "spoilers in the overview"  # ...and still hidden


def test_a_demo_film_is_merged_not_duplicated(tmdb, db):
    shawshank = make_movie(
        "THE SHAWSHANK REDEMPTION",
        source="demo",
        release_date=date(1994, 9, 23),
        vote_average=9.2,
        vote_count=500000,
    )
    other_year = make_movie("Whiplash", source="demo", release_date=date(1980, 1, 1))
    amelie = make_movie(
        "Le fabuleux destin d'Amélie Poulain", source="demo", release_date=date(2001, 4, 25)
    )
    popular = recorded("movies/popular.json")
    popular["results"][0] = {
        "id": 194,
        "title": "Amélie",
        "original_title": "Le Fabuleux Destin d'Amélie Poulain",
        "release_date": "2001-04-25",
        "popularity": 20.5,
    }
    tmdb.serve_catalog(lists={"popular": popular})
    report = tmdb_sync.sync(trailers_too=False)

    merged = film(db, 278)
    assert merged.id == shawshank.id and merged.source == "tmdb"
    assert merged.title == "The Shawshank Redemption" and merged.vote_count == 5238
    assert film(db, 194).id == amelie.id  # matched on the original title
    assert film(db, 244786).id != other_year.id  # same title, another year: another film
    assert db.session.get(Movie, other_year.id).tmdb_id is None
    titles = db.session.scalars(sa.select(Movie.title).where(Movie.title.ilike("%shawshank%")))
    assert len(list(titles)) == 1
    # Two merged; Amélie took the place of a film no other list names.
    assert (report.updated, report.added) == (2, UNIQUE - 2)


def test_pages_follow_the_option_and_stop_at_total_pages(tmdb, db):
    top_rated = recorded("movies/top_rated.json") | {"total_pages": 1}
    tmdb.serve_catalog(lists={"top_rated": top_rated})
    report = tmdb_sync.sync(pages=2, trailers_too=False)
    assert report.lists == {"trending": 40, "popular": 40, "top_rated": 20, "upcoming": 40}
    pages_asked = [r.args["page"] for r in tmdb.requests("/3/movie/top_rated")]
    assert pages_asked == ["1"]  # TMDB said there is one page: page 2 is never asked for
    popular = ranks(db, "popular")
    assert popular[:20] == LISTED["popular"] and popular[20] == LISTED["popular"][0] + 1_000_000


def test_hostile_titles_and_paths_are_stored_as_plain_text(tmdb, db):
    trending = recorded("trending/movie.json")
    first, second, third = (item["id"] for item in trending["results"][:3])
    trending["results"][0]["title"] = "<script>alert('x')</script>"
    trending["results"][1]["title"] = '<a hx-get="/supervisor/users" hx-trigger="load">hi</a>'
    trending["results"][2]["poster_path"] = "https://evil.example/poster.jpg"
    trending["results"][2]["backdrop_path"] = "/../../etc/passwd.jpg"
    tmdb.serve_catalog(lists={"trending": trending})
    tmdb_sync.sync(trailers_too=False)
    assert film(db, first).title == "<script>alert('x')</script>"
    assert film(db, second).title == '<a hx-get="/supervisor/users" hx-trigger="load">hi</a>'
    assert film(db, third).poster_path is None and film(db, third).backdrop_path is None


def test_a_list_is_replaced_whole_or_not_at_all(tmdb, db):
    tmdb.serve_catalog()
    tmdb_sync.sync(trailers_too=False)
    trending = recorded("trending/movie.json")
    trending["results"].reverse()
    tmdb.list_pages[("trending", 1)] = trending
    # Popular's second page cannot be had: that run stops before popular is replaced.
    tmdb.list_pages[("popular", 2)] = Response("busy", status=503)
    with pytest.raises(TMDBUnavailable):
        tmdb_sync.sync(pages=2, trailers_too=False)
    db.session.expire_all()
    assert ranks(db, "trending")[:20] == list(reversed(LISTED["trending"]))
    assert ranks(db, "popular") == LISTED["popular"]
    run = tmdb_sync.last_run()
    assert run.status == "failed" and "TMDB is having trouble (HTTP 503)" in run.message


def test_films_tmdb_cannot_give_are_counted_as_failed(tmdb, db):
    tmdb.serve_catalog()
    missing = LISTED["popular"][3]
    tmdb.details_overrides[missing] = Response(
        '{"status_code": 34, "status_message": "gone"}', status=404
    )
    report = tmdb_sync.sync(trailers_too=False)
    assert (report.added, report.failed) == (UNIQUE - 1, 1)  # in the catalog, not detailed
    assert report.errors == [f"film {missing}: TMDB has no such film (TMDB said: gone)."]
    assert tmdb_sync.last_run().status == "partial"


def test_tmdb_going_down_mid_run_stops_the_run_and_says_why(tmdb, db):
    tmdb.serve_catalog()
    for tmdb_id in list_items():
        tmdb.details_overrides[tmdb_id] = Response("<html>Bad gateway</html>", status=502)
    with pytest.raises(TMDBUnavailable):
        tmdb_sync.sync(trailers_too=False)
    run = tmdb_sync.last_run()
    assert (run.status, run.failed) == ("failed", 3)
    assert run.message == "TMDB is having trouble (HTTP 502)."
    assert len(tmdb.requests(DETAILS)) == 3 * 3  # three films, three tries each


def test_an_interrupted_run_is_recorded_and_the_next_run_finishes_the_work(tmdb, db):
    tmdb.serve_catalog()

    def interrupt(stage, done, total):
        if stage == "Films" and done == 30:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tmdb_sync.sync(trailers_too=False, progress=interrupt)
    assert tmdb_sync.last_run().status == "interrupted"
    report = tmdb_sync.sync(trailers_too=False)
    assert report.added == 0 and report.failed == 0
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(Movie.tmdb_id.is_not(None), Movie.runtime.is_(None))
        )
        == 0
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Movie)) == UNIQUE


def test_changes_refresh_only_films_we_have_since_the_last_sync(tmdb, db):
    tmdb.serve_catalog()
    tmdb_sync.sync(trailers_too=False)
    started = tmdb_sync.last_run().started_at
    tmdb.server.expect_request("/3/movie/changes").respond_with_json(
        {"results": [{"id": 550}, {"id": 278}, {"id": 99999999}], "page": 1, "total_pages": 1}
    )
    changed = details_body(550)
    changed["tagline"] = "A new tagline"
    tmdb.details_overrides[550] = changed
    tmdb.server.clear_log()
    report = tmdb_sync.sync(changes=True, trailers_too=False)

    assert (report.kind, report.added, report.updated, report.unchanged) == ("changes", 0, 1, 1)
    assert film(db, 550).tagline == "A new tagline"
    asked = sorted(r.path for r in tmdb.requests())
    assert asked == ["/3/movie/278", "/3/movie/550", "/3/movie/changes"]  # no lists, no stranger
    sent = tmdb.requests("/3/movie/changes")[0].args
    assert sent["start_date"] == started.date().isoformat()
    assert tmdb_sync.last_run().kind == "changes"


def test_changes_without_an_earlier_sync_read_the_last_14_days(tmdb, db):
    make_movie("Fight Club", tmdb_id=550, source="tmdb")
    tmdb.serve_catalog()
    tmdb.server.expect_request("/3/movie/changes").respond_with_json(
        {"results": [{"id": 550}], "page": 1, "total_pages": 1}
    )
    report = tmdb_sync.sync(changes=True, trailers_too=False)
    today = datetime.now(UTC).date()
    sent = tmdb.requests("/3/movie/changes")[0].args
    assert sent["start_date"] == (today - timedelta(days=14)).isoformat()
    assert report.updated == 1 and "No earlier sync" in report.notes[0]


def test_a_sync_checks_trailers_through_oembed(tmdb, db):
    tmdb.serve_catalog()
    serve_oembed(tmdb)
    report = tmdb_sync.sync()
    assert report.trailers_checked == UNIQUE and report.trailers_failed == 0
    fight_club = film(db, 550)
    assert (fight_club.trailer_key, fight_club.trailer_embeddable) == ("BdJKm16Co6M", True)
    assert fight_club.trailer_checked_at is not None
    other = film(db, LISTED["popular"][0])
    assert other.trailer_key == youtube_key(LISTED["popular"][0])
    again = tmdb_sync.sync()
    assert again.trailers_checked == 0  # checked within the TTL: not asked again


def test_youtube_down_leaves_trailers_alone_and_the_sync_succeeds(tmdb, db):
    tmdb.serve_catalog()
    tmdb.server.expect_request("/oembed").respond_with_data("", status=503)
    report = tmdb_sync.sync()
    assert report.failed == 0 and report.trailers_failed == 3 and report.trailers_checked == 0
    assert "YouTube is not answering" in report.notes[-1]
    assert film(db, 550).trailer_checked_at is None


# -- the command ------------------------------------------------------------------------------


def test_the_command_syncs_and_prints_one_summary_line(tmdb, db, runner):
    tmdb.serve_catalog()
    result = runner.invoke(args=["sync-tmdb", "--no-trailers"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == (
        f"TMDB sync (full): {UNIQUE} added, 0 updated, 0 unchanged, 0 failed."
    )
    again = runner.invoke(args=["sync-tmdb", "--no-trailers"])
    assert again.output.strip().splitlines()[-1] == (
        f"TMDB sync (full): 0 added, 0 updated, {UNIQUE} unchanged, 0 failed."
    )


def test_a_bad_key_exits_non_zero_with_one_line_and_one_request(tmdb, db, runner):
    tmdb.server.expect_request("/3/configuration").respond_with_json(
        tmdb_error(7, "Invalid API key: You must be granted a valid key."), status=401
    )
    result = runner.invoke(args=["sync-tmdb"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "TMDB sync failed: TMDB refused Aura's key (TMDB said: Invalid API key: You must be "
        "granted a valid key.); check AURA_TMDB_API_KEY or AURA_TMDB_READ_TOKEN."
    )
    assert "Traceback" not in result.output
    assert len(tmdb.requests()) == 1
    assert tmdb_sync.last_run().status == "failed"


def test_tmdb_down_exits_non_zero_with_one_line(tmdb, db, runner, app):
    app.config["TMDB_API_BASE"] = "http://127.0.0.1:9/3"  # nothing listens there
    result = runner.invoke(args=["sync-tmdb"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "TMDB sync failed: TMDB did not answer (could not connect)."


def test_without_a_key_the_command_says_how_to_set_one(tmdb, db, runner, app):
    app.config.update(TMDB_API_KEY=None, TMDB_READ_TOKEN=None)
    result = runner.invoke(args=["sync-tmdb"])
    assert result.exit_code == 2
    assert "set AURA_TMDB_API_KEY (a v3 key) or AURA_TMDB_READ_TOKEN" in result.stderr
    assert tmdb.requests() == [] and tmdb_sync.last_run() is None


@pytest.mark.parametrize("pages", ["0", "501", "two", "\u0661"])
def test_pages_out_of_range_are_refused_before_anything_runs(tmdb, db, runner, pages):
    result = runner.invoke(args=["sync-tmdb", "--pages", pages])
    assert result.exit_code == 2 and "Invalid value for '--pages'" in result.output
    assert tmdb.requests() == []


def test_no_run_yet_means_no_last_run(db):
    assert tmdb_sync.last_run() is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 0
