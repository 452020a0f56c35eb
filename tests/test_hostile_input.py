"""Hostile and careless input, by class: never a 500, always a clear answer with the right status.

Each class walks every place it applies (the URL map, every list that pages, every numeric
field), so a route or list added later is covered. The suite also fails any test during which
the app logged an unhandled exception.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from werkzeug.routing import UUIDConverter

from aura.services import cursors
from aura.web import IdConverter
from tests.conftest import login_as
from tests.factories import make_genre, make_movie, make_supervisor, make_user, store_video

HUGE_IDS = [
    "9223372036854775808",  # 2**63
    "18446744073709551617",  # past 64 bits
    "99999999999999999999999999999999",
    "0",
    "١٢",  # Arabic-Indic digits: int() reads them, routes must not
    "１２",  # full-width digits
    "-1",
    "1e3",
]


def id_routes(app):
    """(rule, methods) of every route with an ``<id:...>`` argument."""
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IdConverter) for c in rule._converters.values()):
            yield rule


def fill(rule, value: str) -> str:
    url = rule.rule
    for name, converter in rule._converters.items():
        if isinstance(converter, IdConverter):
            url = url.replace(f"<id:{name}>", value)
        elif isinstance(converter, UUIDConverter):
            url = url.replace(f"<uuid:{name}>", str(uuid.uuid4()))
        else:
            url = url.replace(f"<{name}>", "x")
    return url


def test_the_url_map_has_id_routes_to_walk(app):
    assert {rule.rule for rule in id_routes(app)} >= {
        "/movies/<id:movie_id>",
        "/posters/<id:movie_id>.svg",
        "/library/watchlist/<id:movie_id>",
        "/library/ratings/<id:movie_id>",
        "/library/reviews/<id:movie_id>",
    }


@pytest.mark.parametrize("value", HUGE_IDS)
def test_ids_that_cannot_exist_are_404_everywhere(app, client, db, value):
    login_as(client, make_supervisor())
    for rule in id_routes(app):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(fill(rule, value), method=method)
            assert response.status_code == 404, (method, rule.rule, value, response.status_code)


def raw_cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


BAD_CURSORS = {
    "year 1 at +14:00": raw_cursor(["datetime", "0001-01-01T00:00:00+14:00", 1]),
    "year 9999 at -12:00": raw_cursor(["datetime", "9999-12-31T23:59:59-12:00", 1]),
    "year 1": raw_cursor(["date", "0001-01-01", 1]),
    "naive time": raw_cursor(["datetime", "2026-01-01T00:00:00", 1]),
    "huge number": raw_cursor(["number", 1e308, 1]),
    "huge integer": raw_cursor(["number", 10**40, 1]),
    "id past 64 bits": raw_cursor(["number", 1, 2**64]),
    "bool id": raw_cursor(["number", 1, True]),
    "unknown kind": raw_cursor(["bogus", "abc", 1]),
    "not json": base64.urlsafe_b64encode(b"\xff\xfe nonsense").decode(),
    "not base64": "!!!***",
    "deep json": base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode().rstrip("="),
    "very long": "A" * 5000,
    "non-ascii": "ünïcode",
    "empty list": raw_cursor([]),
}


@pytest.fixture
def paging_world(client, db):
    drama = make_genre("Drama")
    film = make_movie("Paged", genres=[drama], trending_score=1)
    login_as(client, make_user())
    return film


PAGING_URLS = [
    "/rows/trending",
    "/rows/popular",
    "/rows/top_rated",
    "/rows/upcoming",
    "/genres/drama",
    "/library",
    "/library?sort=title",
    "/library?sort=release",
    "/library?show=ratings",
    "/library/reviews/{film}",
]


@pytest.mark.parametrize("name", BAD_CURSORS)
@pytest.mark.parametrize("url", PAGING_URLS)
def test_a_cursor_aura_did_not_make_is_a_400_that_offers_the_first_page(
    client, paging_world, url, name
):
    url = url.format(film=paging_world.id)
    joiner = "&" if "?" in url else "?"
    response = client.get(f"{url}{joiner}after={BAD_CURSORS[name]}")
    assert response.status_code == 400, response.text
    assert cursors.BAD_CURSOR in response.text
    assert "Start again from the first page" in response.text
    first_page = url.split("?")[0]
    assert (
        f'href="{first_page}' in response.text
        and "after=" not in response.text.split("Start again")[0].rsplit("href=", 1)[-1]
    )


def test_a_cursor_is_a_400_for_htmx_too(client, paging_world, hx):
    response = client.get(f"/rows/popular?after={BAD_CURSORS['year 1']}", headers=hx)
    assert response.status_code == 400 and "<html" not in response.text
    assert "Start again" in response.text


@pytest.mark.parametrize(
    "score", ["١٠", "１０", "10.0", "99999999999999999999999", "-1", "0", "11", "", " ", "7\x00"]
)
def test_scores_are_ascii_digits_from_one_to_ten(client, db, signed_in, score):
    film = make_movie()
    response = client.post(f"/library/ratings/{film.id}", data={"score": score})
    assert response.status_code == 422
    assert "Choose a score from 1 to 10" in response.text


@pytest.mark.parametrize(
    "position",
    ["١٢", "１２", "1e400", "nan", "inf", "-5", "99999999999999999999", "12,5", "", "0x10"],
)
def test_player_positions_are_ascii_numbers(client, db, media_dir, position):
    video = store_video()
    client.get(f"/watch/{video.id}")
    response = client.post(
        f"/watch/{video.id}/progress", data={"position": position, "duration": "30"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "%",
        "_",
        "\\",
        "%_%",
        "a\x00b",
        "x" * 10_000,
        "🎬🍿",
        "\u202eevil\u202c",
        "<script>",
        "' OR 1=1 --",
    ],
)
def test_search_takes_any_text(client, db, query):
    make_movie("Heist")
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    assert "<script>" not in response.text.split("<main", 1)[1]


def test_a_forged_forwarded_for_is_ignored_without_trusted_hops(app, client, db):
    assert app.config["TRUSTED_PROXY_HOPS"] == 0
    film = make_movie()
    client.get(
        f"/movies/{film.id}",
        headers={"X-Forwarded-For": "6.6.6.6"},
        environ_base={"REMOTE_ADDR": "192.0.2.10"},
    )
    from aura.models import View

    assert db.session.query(View.client_ip).scalar() == "192.0.2.10"


@pytest.mark.parametrize("garbage", ["not-an-ip", "999.1.1.1", "::gg", "", "1.2.3.4\x00"])
def test_garbage_addresses_are_never_stored(app, db, garbage):
    from aura.services.addresses import stored_ip

    with app.test_request_context():
        assert stored_ip(garbage) is None
