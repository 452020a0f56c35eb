"""While Redis does not answer (restarting, unreachable), the cache answers as a miss: pages,
fragments and ratings are served from the database, with no 5xx and nothing lost.

bench/fault_bench.py's redis-restart found rows and ratings answering 500 while Redis was
down: Flask-Caching's RedisCache raises. Here the cache is a Redis address where nothing
listens, which is what a restarting Redis looks like.
"""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from aura import create_app
from aura.models import Rating
from config import REDIS_CACHE
from tests.conftest import AuraClient, _test_settings, login_as
from tests.factories import make_movie, make_user


@pytest.fixture
def site(app):
    with socket.socket() as sock:  # a free port, closed again: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = {
        **_test_settings(app.instance_path),
        "CACHE_TYPE": REDIS_CACHE,
        "CACHE_REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    site = create_app(settings)
    site.test_client_class = AuraClient
    return site


def test_pages_and_fragments_are_served_without_redis(site, db):
    movie = make_movie("Harbour lights", popularity=5.0, popular_score=5.0)
    client = site.test_client()
    home = client.get("/")
    assert home.status_code == 200 and "Harbour lights" in home.text
    row = client.get("/rows/popular", headers={"HX-Request": "true"})
    assert row.status_code == 200 and "Harbour lights" in row.text
    assert client.get(f"/movies/{movie.id}").status_code == 200


def test_a_rating_is_saved_without_redis(site, db):
    movie = make_movie("Harbour lights")
    user = make_user()
    client = site.test_client()
    login_as(client, user)
    answer = client.post(
        f"/library/ratings/{movie.id}", data={"score": "8"}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    db.session.expire_all()
    saved = db.session.scalar(sa.select(Rating).where(Rating.user_id == user.id))
    assert saved is not None and saved.score == 8
