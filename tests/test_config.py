"""Settings come from AURA_* environment variables; bad values stop with a clear message."""

import logging
import os
import stat

import pytest

from aura import create_app
from config import load_config


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("AURA_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_the_instance_path_places_database_media_and_secret(clean_env, tmp_path):
    clean_env.setenv("AURA_INSTANCE_PATH", str(tmp_path / "site-a"))
    config = load_config()
    assert config.INSTANCE_PATH == str(tmp_path / "site-a")
    assert config.SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path}/site-a/aura.sqlite3"
    assert config.MEDIA_DIR == str(tmp_path / "site-a" / "media")


def test_two_sites_side_by_side_keep_separate_state(clean_env, tmp_path):
    apps = []
    for name in ("a", "b"):
        clean_env.setenv("AURA_INSTANCE_PATH", str(tmp_path / name))
        apps.append(create_app())
    a, b = apps
    assert a.instance_path != b.instance_path
    assert a.config["SQLALCHEMY_DATABASE_URI"] != b.config["SQLALCHEMY_DATABASE_URI"]
    assert a.config["SECRET_KEY"] != b.config["SECRET_KEY"]


def test_a_generated_secret_key_is_private_and_reused(clean_env, tmp_path):
    clean_env.setenv("AURA_INSTANCE_PATH", str(tmp_path))
    first = create_app().config["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert create_app().config["SECRET_KEY"] == first and len(first) >= 48


def test_production_refuses_to_start_without_a_secret_key(clean_env, tmp_path):
    clean_env.setenv("AURA_INSTANCE_PATH", str(tmp_path))
    clean_env.setenv("AURA_CONFIG", "production")
    with pytest.raises(SystemExit, match="AURA_SECRET_KEY"):
        create_app()
    clean_env.setenv("AURA_SECRET_KEY", "s" * 64)
    assert create_app().config["SESSION_COOKIE_SECURE"] is True


def test_every_setting_reads_from_the_environment(clean_env, tmp_path):
    values = {
        "AURA_DATABASE_URL": "postgres://u@db/aura",
        "AURA_REDIS_URL": "redis://cache:6379/1",
        "AURA_MEDIA_DIR": str(tmp_path / "media"),
        "AURA_MAX_UPLOAD_MB": "10",
        "AURA_ACCESS_GRANT_TTL": "60",
        "AURA_TRUSTED_PROXY_HOPS": "2",
        "AURA_IP_MODE": "hashed",
        "AURA_VIEW_RETENTION_DAYS": "7",
        "AURA_STREAM_OFFLOAD": "x-accel",
        "AURA_TMDB_API_KEY": "k",
        "AURA_TMDB_API_BASE": "http://127.0.0.1:9/3",
        "AURA_YOUTUBE_API_BASE": "http://127.0.0.1:9/yt",
    }
    for name, value in values.items():
        clean_env.setenv(name, value)
    config = load_config()
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db/aura"
    assert (
        config.CACHE_TYPE == "aura.caching.SharedCache"
        and config.RATELIMIT_STORAGE_URI == "redis://cache:6379/1"
    )
    assert config.MEDIA_DIR == str(tmp_path / "media")
    assert config.MAX_CONTENT_LENGTH > 10 * 1024 * 1024
    assert (config.ACCESS_GRANT_TTL, config.TRUSTED_PROXY_HOPS, config.VIEW_RETENTION_DAYS) == (
        60,
        2,
        7,
    )
    assert (config.IP_MODE, config.STREAM_OFFLOAD) == ("hashed", "x-accel")
    assert config.TMDB_API_BASE == "http://127.0.0.1:9/3"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AURA_IP_MODE", "everything", "AURA_IP_MODE must be one of"),
        ("AURA_STREAM_OFFLOAD", "sendfile", "AURA_STREAM_OFFLOAD must be one of"),
        ("AURA_MAX_UPLOAD_MB", "lots", "AURA_MAX_UPLOAD_MB must be a whole number"),
        ("AURA_CONFIG", "staging", "AURA_CONFIG must be one of"),
        ("AURA_MEDIA_STORAGE", "ftp", "AURA_MEDIA_STORAGE must be one of local, s3"),
        ("AURA_MEDIA_STORAGE", "s3", "AURA_MEDIA_STORAGE=s3 needs AURA_S3_BUCKET"),
        ("AURA_S3_ENDPOINT", "s3.example.org", "AURA_S3_ENDPOINT must be an http"),
        ("AURA_S3_ENDPOINT", "https://s3.example.org/bucket", "must be an origin"),
        ("AURA_S3_BUCKET", "Bad_Bucket", "AURA_S3_BUCKET must be a bucket name"),
        ("AURA_S3_URL_TTL", "86400", "AURA_S3_URL_TTL must be between 10 and 3600"),
        ("AURA_S3_PART_MB", "1", "AURA_S3_PART_MB must be between 5 and 512"),
        ("AURA_S3_ADDRESSING", "dns", "AURA_S3_ADDRESSING must be one of path, virtual"),
    ],
)
def test_bad_settings_stop_with_a_clear_message(clean_env, name, value, message):
    clean_env.setenv(name, value)
    with pytest.raises(SystemExit, match=message):
        load_config()


def test_s3_storage_settings(clean_env):
    clean_env.setenv("AURA_MEDIA_STORAGE", "s3")
    clean_env.setenv("AURA_S3_BUCKET", "aura-media")
    config = load_config()
    assert (config.S3_ENDPOINT, config.S3_REGION, config.S3_ADDRESSING) == (
        None,
        "us-east-1",
        "virtual",
    )
    assert (config.S3_URL_TTL, config.S3_PART_SIZE) == (300, 8 * 1024 * 1024)
    clean_env.setenv("AURA_S3_ENDPOINT", "https://minio.internal:9000")
    clean_env.setenv("AURA_S3_REGION", "eu-west-3")
    config = load_config()
    assert (config.S3_ENDPOINT, config.S3_ADDRESSING) == ("https://minio.internal:9000", "path")
    assert load_config().MEDIA_STORAGE == "s3"


def test_instance_config_file_overrides(clean_env, tmp_path):
    clean_env.setenv("AURA_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "config.py").write_text("PAGE_SIZE = 12\n")
    assert create_app().config["PAGE_SIZE"] == 12


def test_serve_hands_waitress_the_connection_limit(app, monkeypatch, clean_env):
    """Each streaming viewer holds a connection: AURA_CONNECTION_LIMIT is how many one process
    accepts (waitress's own default, 100, unless set), watched with poll(), not select()."""
    from aura.cli import waitress_serve

    assert load_config().CONNECTION_LIMIT == 100
    clean_env.setenv("AURA_CONNECTION_LIMIT", "500")
    assert load_config().CONNECTION_LIMIT == 500
    clean_env.setenv("AURA_CONNECTION_LIMIT", "lots")
    with pytest.raises(SystemExit):
        load_config()

    seen = {}
    monkeypatch.setattr("aura.cli.serve", lambda application, **options: seen.update(options))
    monkeypatch.setitem(app.config, "CONNECTION_LIMIT", 500)
    monkeypatch.setitem(app.config, "BACKGROUND_JOBS", False)
    monkeypatch.setattr(logging.getLogger("aura"), "propagate", True)  # put back afterwards
    waitress_serve(app, "127.0.0.1", 8000, None)
    assert seen["connection_limit"] == 500 and seen["asyncore_use_poll"] is True
