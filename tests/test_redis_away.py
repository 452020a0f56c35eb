"""While Redis does not answer (restarting, unreachable), the cache answers as a miss and the
sign-in throttle counts in the process's memory: pages, fragments, ratings and signing in work,
with no 5xx and nothing lost.

bench/fault_bench.py's redis-restart found rows, ratings and sign-in answering 500 while Redis
was down: Flask-Caching's RedisCache and the limiter's Redis storage raise. Here cache and
limits are on a Redis address where nothing listens, which is what a restarting Redis looks
like.
"""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from aura import create_app
from aura.extensions import limiter
from aura.models import Rating
from config import REDIS_CACHE
from tests.conftest import AuraClient, _test_settings, login_as
from tests.factories import PASSWORD, make_movie, make_user


@pytest.fixture
def site(app):
    with socket.socket() as sock:  # a free port, closed again: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = {
        **_test_settings(app.instance_path),
        "CACHE_TYPE": REDIS_CACHE,
        "CACHE_REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0",
    }
    # The limiter is one object for every app: give the suite's app its storage back after.
    saved = limiter._storage, limiter._limiter
    site = create_app(settings)
    site.test_client_class = AuraClient
    yield site
    limiter._storage, limiter._limiter = saved


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


def test_signing_in_works_and_guessing_is_still_bounded_without_redis(site, db):
    owner = make_user()
    client = site.test_client()
    signed_in = client.post("/auth/login", data={"email": owner.email, "password": PASSWORD})
    assert signed_in.status_code == 303

    target = make_user()
    guesser = site.test_client()
    answers = [
        guesser.post("/auth/login", data={"email": target.email, "password": "wrong guess 12345"})
        for _ in range(11)
    ]
    assert {answer.status_code for answer in answers[:10]} == {422}
    assert answers[10].status_code == 429 and int(answers[10].headers["Retry-After"]) > 0
