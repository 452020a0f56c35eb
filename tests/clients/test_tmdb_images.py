"""Image URLs only from TMDB file paths, only on the allowed host, never from a response's URL."""

from __future__ import annotations

import pytest

from aura.clients import tmdb_images
from aura.clients.errors import TMDBProtocolError
from tests.fixtures.tmdb import recorded


def serve_configuration(tmdb, base: str | None = None) -> None:
    body = recorded("configuration/api.json")
    if base is not None:
        body["images"]["secure_base_url"] = base
    tmdb.server.expect_request("/3/configuration").respond_with_json(body)


def test_urls_use_the_fetched_configuration_and_it_is_cached(tmdb, app):
    serve_configuration(tmdb)
    with app.app_context():
        tmdb_images.image_config(fetch=True)
    with app.app_context():  # a later request: from the cache, no new call
        assert tmdb_images.image_url("/130H1gap9lFfiTF9iDrqNIkFvC9.jpg", "w500") == (
            "https://image.tmdb.org/t/p/w500/130H1gap9lFfiTF9iDrqNIkFvC9.jpg"
        )
        assert tmdb_images.image_url("/logo-x_1.svg", "original").endswith("/original/logo-x_1.svg")
        assert tmdb_images.tmdb_image_host() == "image.tmdb.org"
    assert len(tmdb.requests("/3/configuration")) == 1


@pytest.mark.parametrize(
    "path",
    [
        None,
        "",
        "abc.jpg",
        "/a/b.jpg",
        "/../b.jpg",
        "https://evil.example/x.jpg",
        "//evil.example/x.jpg",
        "/x.exe",
        "/x.jpg\n",
        "/x.jpg?a=1",
        "/x.JPG",
        "/\uff58.jpg",
        "/x.jpg#",
        "/%2e%2e.jpg",
        '/x.jpg"onerror="alert(1)',
    ],
)
def test_anything_but_a_tmdb_file_path_gives_no_url(tmdb, app, path):
    with app.app_context():
        assert tmdb_images.image_url(path) is None


@pytest.mark.parametrize("size", ["w99999", "../w342", "w342/", "", "W342", "w1234"])
def test_unknown_sizes_give_no_url(tmdb, app, size):
    serve_configuration(tmdb)
    with app.app_context():
        tmdb_images.image_config(fetch=True)
        assert tmdb_images.image_url("/abc.jpg", size) is None


@pytest.mark.parametrize(
    "base",
    [
        "https://evil.example/t/p/",
        "http://image.tmdb.org/t/p/",
        "https://image.tmdb.org.evil.example/t/p/",
        "https://user@image.tmdb.org/t/p/",
        "https://image.tmdb.org:8443/t/p/",
        "https://image.tmdb.org/t/p/?x=",
        "https://image.tmdb.org/../p/",
        "javascript:alert(1)//image.tmdb.org/",
    ],
)
def test_an_off_host_configuration_is_refused_and_never_used(tmdb, app, base):
    serve_configuration(tmdb, base)
    with app.app_context():
        with pytest.raises(TMDBProtocolError):
            tmdb_images.image_config(fetch=True)
        url = tmdb_images.image_url("/abc.jpg")
    assert url == "https://image.tmdb.org/t/p/w342/abc.jpg"  # the known host, not the answer's


def test_a_configured_image_host_is_allowed(tmdb, app):
    app.config["TMDB_IMAGE_HOSTS"] = ("images.example.org",)
    serve_configuration(tmdb, "https://images.example.org/t/p/")
    try:
        with app.app_context():
            assert tmdb_images.image_url("/abc.jpg") is None  # no configuration yet, no default
            assert tmdb_images.tmdb_image_host() is None
        with app.app_context():
            tmdb_images.image_config(fetch=True)
            assert (
                tmdb_images.image_url("/abc.jpg") == "https://images.example.org/t/p/w342/abc.jpg"
            )
            assert tmdb_images.tmdb_image_host() == "images.example.org"
    finally:
        app.config["TMDB_IMAGE_HOSTS"] = ("image.tmdb.org",)


def test_without_tmdb_there_are_no_tmdb_images(tmdb, app):
    app.config.update(TMDB_API_KEY=None, TMDB_READ_TOKEN=None)
    with app.app_context():
        assert tmdb_images.image_url("/abc.jpg") is None
        assert tmdb_images.tmdb_image_host() is None
        assert tmdb_images.image_config(fetch=True) is None
    assert tmdb.requests() == []
