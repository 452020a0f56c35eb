"""Aura's settings: one class per environment, filled from ``AURA_*`` environment variables.

``create_app`` picks the class named by ``AURA_CONFIG`` (development, production, testing); an
``instance/config.py`` may override any value afterwards.
"""

from __future__ import annotations

import os
from datetime import timedelta


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"AURA_{name}")
    return value if value not in (None, "") else default


def env_int(name: str, default: int) -> int:
    raw = env_str(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"AURA_{name} must be a whole number, not {raw!r}") from None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env_str(name, default) or default).lower()
    if value not in choices:
        raise SystemExit(f"AURA_{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


class Config:
    """Defaults shared by every environment; each value can be set with AURA_<NAME>."""

    NAME = "base"
    TESTING = False
    DEBUG = False

    def __init__(self) -> None:
        self.INSTANCE_PATH = os.path.abspath(env_str("INSTANCE_PATH", "instance"))
        self.SECRET_KEY = env_str("SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            env_str("DATABASE_URL")
            or "sqlite:///" + os.path.join(self.INSTANCE_PATH, "aura.sqlite3")
        )
        self.REDIS_URL = env_str("REDIS_URL")
        self.MEDIA_DIR = os.path.abspath(
            env_str("MEDIA_DIR") or os.path.join(self.INSTANCE_PATH, "media")
        )
        self.MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 4096)
        self.BACKUP_DIR = os.path.abspath(
            env_str("BACKUP_DIR") or os.path.join(self.INSTANCE_PATH, "backups")
        )
        self.BACKUP_MAX_AGE_HOURS = env_int("BACKUP_MAX_AGE_HOURS", 26)
        # A PostgreSQL server for scratch databases when the site itself runs on SQLite: used
        # to check, or convert from, a backup of a PostgreSQL site.
        scratch = env_str("BACKUP_SCRATCH_POSTGRES_URL")
        self.BACKUP_SCRATCH_POSTGRES_URL = normalise_database_url(scratch) if scratch else None
        self.ACCESS_GRANT_TTL = env_int("ACCESS_GRANT_TTL", 3600)
        self.TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)
        self.IP_MODE = env_choice("IP_MODE", "full", ("full", "truncated", "hashed"))
        self.VIEW_RETENTION_DAYS = env_int("VIEW_RETENTION_DAYS", 90)
        self.STREAM_OFFLOAD = env_choice("STREAM_OFFLOAD", "none", ("none", "x-accel"))
        self.STREAM_OFFLOAD_PREFIX = env_str("STREAM_OFFLOAD_PREFIX", "/_protected_media/")
        self.SUPERVISOR_MFA = env_choice("SUPERVISOR_MFA", "optional", ("optional", "required"))
        self.TMDB_API_KEY = env_str("TMDB_API_KEY")
        self.TMDB_READ_TOKEN = env_str("TMDB_READ_TOKEN")
        self.TMDB_API_BASE = env_str("TMDB_API_BASE", "https://api.themoviedb.org/3")
        self.YOUTUBE_API_KEY = env_str("YOUTUBE_API_KEY")
        self.YOUTUBE_API_BASE = env_str("YOUTUBE_API_BASE", "https://www.googleapis.com/youtube/v3")
        self.YOUTUBE_OEMBED_URL = env_str("YOUTUBE_OEMBED_URL", "https://www.youtube.com/oembed")

        # Flask and extension settings derived from the above.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.MAX_CONTENT_LENGTH = self.MAX_UPLOAD_MB * 1024 * 1024 + 1024 * 1024
        self.SESSION_COOKIE_NAME = "aura_session"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = False
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.PERMANENT_SESSION_LIFETIME = timedelta(days=env_int("SESSION_DAYS", 14))
        self.SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 60 * 24 * 3)
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session it is bound to
        self.WTF_CSRF_SSL_STRICT = (
            False  # SameSite=Lax plus the session-bound token already bind origin
        )
        self.CACHE_TYPE = "RedisCache" if self.REDIS_URL else "SimpleCache"
        self.CACHE_REDIS_URL = self.REDIS_URL
        self.CACHE_KEY_PREFIX = "aura:"
        self.CACHE_DEFAULT_TIMEOUT = 300
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_KEY_PREFIX = "aura-limits"
        self.RATELIMIT_HEADERS_ENABLED = False
        self.PAGE_SIZE = 24


class DevelopmentConfig(Config):
    NAME = "development"
    DEBUG = False  # `flask run --debug` turns the debugger on explicitly


class ProductionConfig(Config):
    NAME = "production"

    def __init__(self) -> None:
        super().__init__()
        self.SESSION_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_SECURE = True


class TestingConfig(Config):
    NAME = "testing"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = self.SECRET_KEY or "testing-secret-key-not-for-production"
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.CACHE_TYPE = "RedisCache" if self.REDIS_URL else "SimpleCache"


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgres://`` and ``postgresql://`` spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(name: str | None = None) -> Config:
    name = (name or env_str("CONFIG", "development") or "development").lower()
    try:
        return CONFIGS[name]()
    except KeyError:
        raise SystemExit(f"AURA_CONFIG must be one of {', '.join(CONFIGS)}, not {name!r}") from None
