"""While the database does not answer (restarting, unreachable), every page says so with a 503
and Retry-After, and nothing is logged as an unhandled exception.

bench/fault_bench.py's postgres-restart found pages answering 500 through a restart: the error
page asked the database who was signed in, and failed again. Here the app's database is a
PostgreSQL address where nothing listens, which is what a restarting server looks like.
"""

from __future__ import annotations

import socket

import pytest

from aura import create_app, sessions
from tests.conftest import AuraClient, _test_settings


@pytest.fixture
def away(app):
    with socket.socket() as sock:  # a free port, closed again: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = {
        **_test_settings(app.instance_path),
        "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{port}/aura",
    }
    site = create_app(settings)
    site.test_client_class = AuraClient
    return site


def signed_in(site) -> AuraClient:
    """A browser whose cookie names a signed-in viewer (loading them needs the database)."""
    client = site.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1"
        session["_fresh"] = True
        session[sessions.SID] = "a-login-token"
    return client


@pytest.mark.parametrize("client_kind", ["anonymous", "signed in"])
def test_pages_answer_503_with_retry_after(away, client_kind):
    client = away.test_client() if client_kind == "anonymous" else signed_in(away)
    page = client.get("/")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert "<html" in page.text and "The database is not answering" in page.text


def test_fragments_and_writes_answer_503_too(away):
    client = signed_in(away)
    fragment = client.get("/rows/popular", headers={"HX-Request": "true"})
    assert fragment.status_code == 503
    assert "<html" not in fragment.text and "The database is not answering" in fragment.text
    rating = client.post("/library/ratings/1", data={"score": "7"}, headers={"HX-Request": "true"})
    assert rating.status_code == 503
    assert rating.headers["Retry-After"] == "5"
