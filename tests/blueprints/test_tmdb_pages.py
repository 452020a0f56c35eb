"""Pages with TMDB configured: rows in TMDB's order refreshed behind the page, search merged
with TMDB's, trailers that load only when asked for, and never a 500 or a hang when TMDB
is slow or away. Against a local server answering with TMDB's recorded bodies."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from werkzeug import Response

from aura.models import ListEntry, Movie, utcnow
from aura.services import tmdb_sync
from tests.factories import make_movie
from tests.fixtures.tmdb import recorded

OFFICIAL = "BdJKm16Co6M"  # film 550's official trailer in the recorded videos


def synced(tmdb) -> None:
    tmdb.serve_catalog()
    report = tmdb_sync.sync(pages=1, trailers_too=False)
    assert report.failed == 0


def csp(response) -> str:
    return response.headers["Content-Security-Policy"]


def test_without_tmdb_nothing_asks_it_and_the_csp_allows_no_outside_images(app, client, db):
    assert not app.config.get("TMDB_API_KEY") and not app.config.get("TMDB_READ_TOKEN")
    film = make_movie("Local", poster_path="/abc.jpg", tmdb_id=550)
    page = client.get(f"/movies/{film.id}")
    assert "image.tmdb.org" not in page.text and "youtube" not in page.text
    assert "img-src 'self' data:;" in csp(page) and "frame-src 'none'" in csp(page)


def test_rows_follow_tmdb_with_its_posters_and_the_csp_allows_its_image_host(tmdb, client, db):
    synced(tmdb)
    home = client.get("/")
    assert home.status_code == 200
    first = recorded("trending/movie.json")["results"][0]
    assert first["title"] in home.text
    assert "https://image.tmdb.org/t/p/w342/" in home.text
    assert "https://image.tmdb.org" in csp(
        home
    ) and "frame-src https://www.youtube-nocookie.com" in csp(home)
    assert "www.youtube.com" not in csp(home)


def test_a_stale_row_is_refreshed_behind_the_page(tmdb, client, db, monkeypatch):
    synced(tmdb)
    db.session.execute(sa.update(ListEntry).values(fetched_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    before = len(tmdb.requests("/3/trending/movie/week"))
    started = []
    from aura.services import tmdb_refresh

    real = tmdb_refresh.refresh_list_if_stale

    def watched(name, *args, **kwargs):
        status = real(name, *args, **kwargs)
        started.append(status)
        return status

    monkeypatch.setattr(tmdb_refresh, "refresh_list_if_stale", watched)
    assert client.get("/").status_code == 200  # rendered from the database at once
    for status in started:
        if status.worker is not None:
            status.worker.join(timeout=10)
    assert len(tmdb.requests("/3/trending/movie/week")) > before
    fresh = db.session.scalar(sa.select(sa.func.max(ListEntry.fetched_at)))
    assert utcnow() - fresh < timedelta(minutes=1)


def test_with_tmdb_down_pages_render_from_the_database_and_say_so(tmdb, client, db, hx):
    synced(tmdb)
    tmdb.server.clear()
    tmdb.server.expect_request(re.compile("/3/.*")).respond_with_response(
        Response('{"status_code": 9, "status_message": "offline"}', status=503)
    )
    db.session.execute(sa.update(ListEntry).values(fetched_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    first = recorded("trending/movie.json")["results"][0]["title"]
    responses = [client.get("/"), client.get("/"), client.get("/search?q=avengers")]
    for response in responses:
        assert response.status_code == 200
    assert first in responses[-2].text
    assert any("saved" in response.text.lower() for response in responses[1:])


def test_search_merges_tmdb_results_and_stores_them(tmdb, client, db):
    tmdb.serve_catalog()
    tmdb.server.expect_request("/3/search/movie").respond_with_json(recorded("search/movie.json"))
    make_movie("Avengers Local Cut", popular_score=1)
    page = client.get("/search?q=avengers")
    assert page.status_code == 200
    text = page.text
    assert "Avengers Local Cut" in text and "Avengers: Age of Ultron" in text
    assert text.index("Avengers Local Cut") < text.index("Avengers: Age of Ultron")
    stored = db.session.scalar(sa.select(Movie).where(Movie.tmdb_id == 99861))
    assert stored is not None and stored.source == "tmdb"
    # Asked once: the same search again is answered from the cache.
    client.get("/search?q=avengers")
    assert len(tmdb.requests("/3/search/movie")) == 1


def test_a_film_page_offers_its_trailer_without_loading_youtube(tmdb, client, db):
    tmdb.server.expect_request("/3/movie/550/videos").respond_with_json(
        recorded("movies/videos.json")
    )
    tmdb.server.expect_request("/oembed").respond_with_json({"type": "video", "title": "x"})
    film = make_movie("Fight Club", tmdb_id=550)
    page = client.get(f"/movies/{film.id}")
    assert page.status_code == 200
    assert (
        f'data-embed="https://www.youtube-nocookie.com/embed/{OFFICIAL}?autoplay=1&amp;rel=0"'
        in page.text
    )
    assert f'href="https://www.youtube.com/watch?v={OFFICIAL}"' in page.text  # works without JS
    assert "<iframe" not in page.text  # nothing from YouTube until asked for
    db.session.refresh(film)
    assert film.trailer_key == OFFICIAL and film.trailer_embeddable is True


def test_a_trailer_that_cannot_be_embedded_is_not_offered(tmdb, client, db):
    tmdb.server.expect_request("/3/movie/550/videos").respond_with_json(
        recorded("movies/videos.json")
    )
    tmdb.server.expect_request("/oembed").respond_with_data("Unauthorized", status=401)
    film = make_movie("Fight Club", tmdb_id=550)
    page = client.get(f"/movies/{film.id}")
    assert page.status_code == 200 and "trailer-start" not in page.text


def test_a_film_page_renders_when_tmdb_is_down(tmdb, client, db):
    tmdb.server.expect_request(re.compile("/3/.*")).respond_with_response(
        Response("oops", status=502)
    )
    film = make_movie("Fight Club", tmdb_id=550)
    assert client.get(f"/movies/{film.id}").status_code == 200
