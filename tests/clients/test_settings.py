"""The outside-world settings: defaults, environment values, and clear refusals of bad ones."""

from __future__ import annotations

import os

import pytest

from config import load_config


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("AURA_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults_keep_aura_offline_and_polite(clean_env):
    config = load_config()
    assert config.TMDB_API_KEY is None and config.TMDB_READ_TOKEN is None
    assert (config.TMDB_LANGUAGE, config.TMDB_REGION, config.TMDB_RATE_LIMIT) == ("en-US", "US", 40)
    assert config.TMDB_IMAGE_HOSTS == ("image.tmdb.org",)
    assert (config.HTTP_CONNECT_TIMEOUT, config.HTTP_READ_TIMEOUT) == (3.05, 10.0)
    assert (config.HTTP_MAX_TRIES, config.HTTP_RETRY_AFTER_CAP) == (4, 30.0)
    assert (config.YOUTUBE_SEARCH_DAILY_UNITS, config.TRAILER_TTL_DAYS) == (1000, 7)


def test_each_setting_reads_from_the_environment(clean_env):
    values = {
        "AURA_TMDB_LANGUAGE": "pt-BR",
        "AURA_TMDB_REGION": "BR",
        "AURA_TMDB_RATE_LIMIT": "12.5",
        "AURA_TMDB_IMAGE_HOSTS": "image.tmdb.org, Images.Example.org",
        "AURA_TMDB_CONFIGURATION_TTL": "3600",
        "AURA_TMDB_LIST_TTL": "600",
        "AURA_YOUTUBE_SEARCH_DAILY_UNITS": "0",
        "AURA_TRAILER_TTL_DAYS": "30",
        "AURA_HTTP_CONNECT_TIMEOUT": "1",
        "AURA_HTTP_READ_TIMEOUT": "2.5",
        "AURA_HTTP_MAX_TRIES": "2",
        "AURA_HTTP_RETRY_AFTER_CAP": "5",
        "AURA_YOUTUBE_OEMBED_URL": "http://127.0.0.1:9/oembed/",
    }
    for name, value in values.items():
        clean_env.setenv(name, value)
    config = load_config()
    assert (config.TMDB_LANGUAGE, config.TMDB_REGION, config.TMDB_RATE_LIMIT) == (
        "pt-BR",
        "BR",
        12.5,
    )
    assert config.TMDB_IMAGE_HOSTS == ("image.tmdb.org", "images.example.org")
    assert (config.TMDB_CONFIGURATION_TTL, config.TMDB_LIST_TTL) == (3600, 600)
    assert (config.YOUTUBE_SEARCH_DAILY_UNITS, config.TRAILER_TTL_DAYS) == (0, 30)
    assert (config.HTTP_CONNECT_TIMEOUT, config.HTTP_READ_TIMEOUT) == (1.0, 2.5)
    assert (config.HTTP_MAX_TRIES, config.HTTP_RETRY_AFTER_CAP) == (2, 5.0)
    assert config.YOUTUBE_OEMBED_URL == "http://127.0.0.1:9/oembed"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AURA_TMDB_RATE_LIMIT", "0", "AURA_TMDB_RATE_LIMIT must be between"),
        ("AURA_TMDB_RATE_LIMIT", "nan", "AURA_TMDB_RATE_LIMIT must be a number"),
        ("AURA_TMDB_RATE_LIMIT", "fast", "AURA_TMDB_RATE_LIMIT must be a number"),
        ("AURA_HTTP_MAX_TRIES", "50", "AURA_HTTP_MAX_TRIES must be between 1 and 10"),
        ("AURA_HTTP_READ_TIMEOUT", "-1", "AURA_HTTP_READ_TIMEOUT must be between"),
        ("AURA_TMDB_LANGUAGE", "english", "AURA_TMDB_LANGUAGE must be a language tag"),
        ("AURA_TMDB_REGION", "usa", "AURA_TMDB_REGION must be a country code"),
        ("AURA_TMDB_IMAGE_HOSTS", "https://image.tmdb.org/", "must list host names"),
        ("AURA_TMDB_IMAGE_HOSTS", " , ", "must name at least one host"),
        ("AURA_TMDB_API_BASE", "ftp://api.themoviedb.org/3", "must be an http(s) URL"),
        ("AURA_YOUTUBE_API_BASE", "https://x.example/v3?key=1", "must be an http(s) URL"),
        ("AURA_TRAILER_TTL_DAYS", "0", "AURA_TRAILER_TTL_DAYS must be between 1 and 365"),
        ("AURA_YOUTUBE_SEARCH_DAILY_UNITS", "-100", "must be between 0 and"),
    ],
)
def test_bad_values_stop_with_a_clear_message(clean_env, name, value, message):
    clean_env.setenv(name, value)
    with pytest.raises(SystemExit, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config()
