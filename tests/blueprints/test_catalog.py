"""Catalog routes: pages and fragments, bad input, posters, hostile text."""

import re

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer
from werkzeug.security import generate_password_hash

from aura.models import Movie, User, View
from aura.services import cursors, scores
from tests.conftest import login_as
from tests.factories import make_genre, make_movie


def is_page(response):
    return b"<html" in response.data


def assert_both_ways(client, hx, url, marker):
    page = client.get(url)
    fragment = client.get(url, headers=hx)
    for response in (page, fragment):
        assert response.status_code == 200
        assert "HX-Request" in response.headers["Vary"]
        assert marker in response.get_data(as_text=True)
    assert is_page(page)
    assert not is_page(fragment)
    # A boosted navigation and a history restore need the whole page.
    for headers in ({**hx, "HX-Boosted": "true"}, {**hx, "HX-History-Restore-Request": "true"}):
        assert is_page(client.get(url, headers=headers))
    return page, fragment


def make_supervisor(db):
    user = User(
        email="sup@example.org",
        display_name="Sup",
        role="supervisor",
        password_hash=generate_password_hash("a long enough passphrase"),
    )
    db.session.add(user)
    db.session.commit()
    return user


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/rows/popular",
        "/rows/trending",
        "/rows/top_rated",
        "/genres/drama",
        "/search?q=everything",
    ],
)
def test_every_fragment_endpoint_serves_page_and_fragment(client, db, hx, url):
    drama = make_genre("Drama")
    make_movie("Everything Everywhere", genres=[drama], popular_score=5, trending_score=1)
    assert_both_ways(client, hx, url, "Everything Everywhere")


def test_a_row_page_links_to_the_next_page_for_browsers_without_javascript(client, db, hx):
    movies = [make_movie(f"Film {n:02d}", popular_score=100 - n) for n in range(30)]
    page = client.get("/rows/popular").get_data(as_text=True)
    next_url = re.search(r'<a class="button button-ghost next-page" href="([^"]+)"', page).group(1)
    assert next_url.startswith("/rows/popular?after=")
    second = client.get(next_url.replace("&amp;", "&"), headers=hx).get_data(as_text=True)
    assert "Film 24" in second and "Film 29" in second and "Film 23" not in second
    assert "sentinel" not in second  # the last page has no next page
    assert movies[0].title in page


@pytest.mark.parametrize("after", ["garbage", "e30", "%00", "🎬", "x" * 300])
def test_a_broken_cursor_is_a_clear_400_both_ways(client, db, hx, after):
    make_movie()
    page = client.get("/rows/popular", query_string={"after": after})
    assert page.status_code == 400 and "page link is broken" in page.get_data(as_text=True)
    assert 'href="/rows/popular">Start again from the first page' in page.get_data(as_text=True)
    fragment = client.get("/rows/popular", query_string={"after": after}, headers=hx)
    assert fragment.status_code == 400 and not is_page(fragment)
    assert fragment.headers["HX-Retarget"] == "#notices"


def test_unknown_rows_genres_and_films_are_404(client, db):
    for url in (
        "/rows/nope",
        "/genres/nope",
        "/movies/999999",
        "/posters/999999.svg",
        "/movies/abc",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Not found" in response.get_data(as_text=True)


def test_a_film_page_shows_its_facts_and_counts_a_view(client, db):
    drama = make_genre("Drama")
    movie = make_movie(
        "Casablanca",
        director="Michael Curtiz",
        runtime=102,
        genres=[drama],
        certification="PG",
        vote_average=8.5,
        vote_count=500000,
        facts={"distributor": "Warner Bros.", "rotten_tomatoes": 99},
    )
    response = client.get(f"/movies/{movie.id}", headers={"User-Agent": "TestBrowser/1"})
    text = response.get_data(as_text=True)
    for fact in (
        "Casablanca",
        "Michael Curtiz",
        "1h 42m",
        "Drama",
        "PG",
        "8.5",
        "500,000",
        "Warner Bros.",
        "99%",
    ):
        assert fact in text
    view = db.session.scalar(sa.select(View))
    assert (view.kind, view.movie_id, view.client_ip, view.user_agent) == (
        "detail",
        movie.id,
        "127.0.0.1",
        "TestBrowser/1",
    )
    db.session.refresh(movie)
    assert movie.view_count == 1


def test_hidden_films_are_404_for_viewers_and_marked_for_supervisors(client, db):
    movie = make_movie("Withdrawn", hidden=True, hidden_reason="rights expired")
    assert client.get(f"/movies/{movie.id}").status_code == 404
    assert client.get(f"/posters/{movie.id}.svg").status_code == 404
    assert "Withdrawn" not in client.get("/rows/popular").get_data(as_text=True)
    login_as(client, make_supervisor(db))
    page = client.get(f"/movies/{movie.id}").get_data(as_text=True)
    assert "Hidden from viewers: rights expired" in page
    assert "Withdrawn" in client.get("/rows/popular").get_data(as_text=True)


HOSTILE = '<img src=x onerror=alert(1)><div hx-get="/evil" hx-trigger="load">&</div>'


def test_hostile_titles_are_inert_on_every_page(client, db, hx):
    movie = make_movie(HOSTILE, director=HOSTILE, overview=HOSTILE, popular_score=9)
    for url in ("/", "/rows/popular", f"/movies/{movie.id}", "/search?q=evil"):
        for headers in ({}, hx):
            text = client.get(url, headers=headers).get_data(as_text=True)
            assert "<img src=x" not in text and '<div hx-get="/evil"' not in text, url
            assert "&lt;div hx-get=&#34;/evil&#34;" in text, url
    svg = client.get(f"/posters/{movie.id}.svg").get_data(as_text=True)
    assert "<img" not in svg and "<div" not in svg and "&lt;" in svg


def test_posters_are_svg_cached_for_a_year_and_revalidate(client, db):
    movie = make_movie("Poster Child", release_date=None)
    response = client.get(f"/posters/{movie.id}.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    again = client.get(
        f"/posters/{movie.id}.svg", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    # The same film always gets the same poster.
    assert client.get(f"/posters/{movie.id}.svg").data == response.data


def test_search_answers_odd_input_with_200(client, db, hx):
    make_movie("Heat")
    for query in ["\x00", "😀🎬", "%_\\'\"", "a" * 10_000, "<script>", "NEAR(", "\u202e"]:
        for headers in ({}, hx):
            response = client.get("/search", query_string={"q": query}, headers=headers)
            assert response.status_code == 200, query


def test_home_without_films_explains_how_to_load_them(client, db):
    assert "aura load-demo" in client.get("/").get_data(as_text=True)


def test_home_shows_each_row_and_the_genres(client, db):
    make_genre("Western")
    film = make_movie("Stagecoach", popular_score=3)
    text = client.get("/").get_data(as_text=True)
    for heading in ("Popular", "Top rated"):
        assert heading in text
    assert "Coming soon" not in text  # no upcoming films: the row is left out
    # Nobody opened a film this week: trending would only repeat Popular, so it is left out.
    assert "Trending now" not in text
    assert 'href="/genres/western"' in text
    client.get(f"/movies/{film.id}")
    # The rendered rows are kept for a minute at most; the hourly refresh renews them at once.
    scores.recompute_trending()
    assert "Trending now" in client.get("/").get_data(as_text=True)


def test_home_rows_carry_each_visitors_token_and_page_and_keep_titles_inert(client, db, hx):
    # Text that looks like the stand-ins the cached rows are cut at is only text.
    make_movie("<aura:csrf> {0} <aura:card:1>", popular_score=9)
    make_movie("Stagecoach", popular_score=3)
    page = client.get("/", headers=hx).get_data(as_text=True)
    assert "&lt;aura:csrf&gt; {0} &lt;aura:card:1&gt;" in page
    assert "<aura:" not in page
    # Every card's watchlist form holds this visitor's own token and sends them back here.
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
    assert len(tokens) == 1 and tokens.pop().startswith(
        URLSafeTimedSerializer(client.application.secret_key, "wtf-csrf-token").dumps(raw)[:40]
    )
    assert set(re.findall(r'name="next" value="([^"]+)"', page)) == {"/"}
    other = client.application.test_client().get("/", headers=hx).get_data(as_text=True)
    assert re.findall(r'name="csrf_token" value="([^"]+)"', other)[0] not in page
    # Signed once a minute per browser, not per page; the reused token is still accepted.
    again = client.get("/", headers=hx).get_data(as_text=True)
    token = re.findall(r'name="csrf_token" value="([^"]+)"', again)[0]
    assert f'value="{token}"' in page
    film = db.session.scalars(sa.select(Movie).where(Movie.title == "Stagecoach")).one()
    added = client.post(
        f"/library/watchlist/{film.id}", data={"csrf_token": token, "on": "1"}, csrf=False
    )
    assert added.status_code in (302, 303) and "/auth/login" in added.headers["Location"]


def test_a_cursor_from_another_row_is_refused(client, db):
    make_movie()
    from datetime import date

    numeric, dated = cursors.encode("number", 12.5, 1), cursors.encode("date", date(2030, 1, 1), 1)
    assert client.get("/rows/upcoming", query_string={"after": numeric}).status_code == 400
    assert client.get("/rows/popular", query_string={"after": dated}).status_code == 400
    assert client.get("/rows/upcoming", query_string={"after": dated}).status_code == 200
