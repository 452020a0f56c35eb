"""Aura's settings: one class per environment, filled from ``AURA_*`` environment variables.

``create_app`` picks the class named by ``AURA_CONFIG`` (development, production, testing); an
``instance/config.py`` may override any value afterwards.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from urllib.parse import urlsplit


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"AURA_{name}")
    return value if value not in (None, "") else default


def env_int(name: str, default: int, low: int | None = None, high: int | None = None) -> int:
    raw = env_str(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"AURA_{name} must be a whole number, not {raw!r}") from None
    _check_range(name, value, low, high)
    return value


def env_float(name: str, default: float, low: float, high: float) -> float:
    raw = env_str(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"AURA_{name} must be a number, not {raw!r}") from None
    if value != value:  # NaN compares unequal to itself and would pass any range check
        raise SystemExit(f"AURA_{name} must be a number, not {raw!r}")
    _check_range(name, value, low, high)
    return value


def _check_range(name: str, value: float, low: float | None, high: float | None) -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        raise SystemExit(f"AURA_{name} must be between {low} and {high}, not {value}")


def env_url(name: str, default: str) -> str:
    """An http(s) base URL without query or fragment (every outside client's base is one)."""
    value = env_str(name, default) or default
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SystemExit(f"AURA_{name} must be an http(s) URL, not {value!r}")
    return value.rstrip("/")


def env_origin(name: str) -> str:
    """An http(s) origin (scheme, host, optional port) with nothing after it."""
    value = env_url(name, "")
    if urlsplit(value).path not in ("", "/"):
        raise SystemExit(f"AURA_{name} must be an origin such as https://s3.example.org")
    return value


def env_match(name: str, default: str, pattern: str, what: str) -> str:
    value = env_str(name, default) or default
    if not re.fullmatch(pattern, value, flags=re.ASCII):
        raise SystemExit(f"AURA_{name} must be {what}, not {value!r}")
    return value


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*"


def env_hosts(name: str, default: str) -> tuple[str, ...]:
    """A comma-separated list of host names, lower-cased."""
    raw = env_str(name, default) or default
    hosts = tuple(host.strip().lower() for host in raw.split(",") if host.strip())
    for host in hosts:
        if not re.fullmatch(_HOSTNAME, host, flags=re.ASCII):
            raise SystemExit(f"AURA_{name} must list host names, not {host!r}")
    if not hosts:
        raise SystemExit(f"AURA_{name} must name at least one host")
    return hosts


def env_flag(name: str, default: bool) -> bool:
    """``1``/``on``/``true``/``yes`` or ``0``/``off``/``false``/``no``."""
    raw = env_str(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    raise SystemExit(f"AURA_{name} must be 1 or 0 (on or off), not {raw!r}")


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
        # Off: film pages are served without logging or counting a view (for measuring what
        # recording costs, or a site that wants no analytics at all).
        self.RECORD_VIEWS = env_choice("RECORD_VIEWS", "on", ("on", "off")) == "on"
        # Film page views are written behind the requests, this often, by each process (0: in
        # the request itself).
        self.VIEW_FLUSH_SECONDS = env_float("VIEW_FLUSH_SECONDS", 1.0, 0.0, 60.0)
        self.STREAM_OFFLOAD = env_choice("STREAM_OFFLOAD", "none", ("none", "x-accel"))
        self.STREAM_OFFLOAD_PREFIX = env_str("STREAM_OFFLOAD_PREFIX", "/_protected_media/")
        # Where media lives: the media folder, or an S3-compatible bucket (aura.services.storage).
        # Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, a
        # profile or an instance role), never from Aura's settings.
        self.MEDIA_STORAGE = env_choice("MEDIA_STORAGE", "local", ("local", "s3"))
        self.S3_ENDPOINT = env_origin("S3_ENDPOINT") if env_str("S3_ENDPOINT") else None
        bucket = env_str("S3_BUCKET")
        self.S3_BUCKET = (
            env_match("S3_BUCKET", bucket, r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "a bucket name")
            if bucket
            else None
        )
        self.S3_REGION = env_match("S3_REGION", "us-east-1", r"[a-z0-9-]{2,32}", "a region name")
        # Path-style URLs (endpoint/bucket/key) suit MinIO and Ceph; AWS prefers virtual hosts.
        self.S3_ADDRESSING = env_choice(
            "S3_ADDRESSING", "path" if self.S3_ENDPOINT else "virtual", ("path", "virtual")
        )
        # A presigned video URL lives this long (never longer than the viewer's grant).
        self.S3_URL_TTL = env_int("S3_URL_TTL", 300, 10, 3600)
        # Uploads larger than one part go up as a multipart upload, one part held at a time.
        self.S3_PART_SIZE = env_int("S3_PART_MB", 8, 5, 512) * 1024 * 1024
        # With AURA_STREAM_OFFLOAD=x-accel: nginx's internal location that proxies to the bucket.
        self.S3_OFFLOAD_PREFIX = env_match(
            "S3_OFFLOAD_PREFIX", "/_s3_media/", r"/[A-Za-z0-9_-]+/", "a path such as /_s3_media/"
        )
        check_media_storage(self.MEDIA_STORAGE, self.S3_BUCKET)
        # Host names this site answers to (werkzeug's TRUSTED_HOSTS): others get a 400, so a
        # forged Host header cannot make Aura build links to another site. Unset: any host.
        trusted = env_str("TRUSTED_HOSTS")
        self.TRUSTED_HOSTS = list(env_hosts("TRUSTED_HOSTS", trusted)) if trusted else None
        self.HSTS = env_flag("HSTS", False)  # production turns it on: see ProductionConfig
        self.THREADS = env_int("THREADS", 8, 1, 256)
        # Open connections waitress accepts before it stops accepting (its default is 100):
        # every streaming viewer holds one, so past it new visitors wait for a free one.
        self.CONNECTION_LIMIT = env_int("CONNECTION_LIMIT", 100, 1, 100_000)
        self.REQUEST_LOG = env_flag("REQUEST_LOG", True)  # one JSON line per request
        # Serving processes run the scheduled jobs (scores, purge), once across all of them.
        self.BACKGROUND_JOBS = env_choice("BACKGROUND_JOBS", "on", ("on", "off")) == "on"
        self.SUPERVISOR_MFA = env_choice("SUPERVISOR_MFA", "optional", ("optional", "required"))
        self.TMDB_API_KEY = env_str("TMDB_API_KEY")
        self.TMDB_READ_TOKEN = env_str("TMDB_READ_TOKEN")
        self.TMDB_API_BASE = env_url("TMDB_API_BASE", "https://api.themoviedb.org/3")
        self.TMDB_LANGUAGE = env_match(
            "TMDB_LANGUAGE", "en-US", r"[a-z]{2}(-[A-Z]{2})?", "a language tag such as en-US"
        )
        self.TMDB_REGION = env_match("TMDB_REGION", "US", r"[A-Z]{2}", "a country code such as US")
        # TMDB asks for at most ~40-50 requests a second; every Aura process shares this budget.
        self.TMDB_RATE_LIMIT = env_float("TMDB_RATE_LIMIT", 40.0, 0.1, 1000.0)
        self.TMDB_IMAGE_HOSTS = env_hosts("TMDB_IMAGE_HOSTS", "image.tmdb.org")
        self.TMDB_CONFIGURATION_TTL = env_int("TMDB_CONFIGURATION_TTL", 3 * 86400, 60, 30 * 86400)
        self.TMDB_LIST_TTL = env_int("TMDB_LIST_TTL", 6 * 3600, 60, 30 * 86400)
        self.YOUTUBE_API_KEY = env_str("YOUTUBE_API_KEY")
        self.YOUTUBE_API_BASE = env_url("YOUTUBE_API_BASE", "https://www.googleapis.com/youtube/v3")
        self.YOUTUBE_OEMBED_URL = env_url("YOUTUBE_OEMBED_URL", "https://www.youtube.com/oembed")
        # search.list costs 100 of the 10,000 daily units; this is Aura's share for searches.
        self.YOUTUBE_SEARCH_DAILY_UNITS = env_int("YOUTUBE_SEARCH_DAILY_UNITS", 1000, 0, 1_000_000)
        self.TRAILER_TTL_DAYS = env_int("TRAILER_TTL_DAYS", 7, 1, 365)
        # Every outside call: connect and read timeouts, tries, and the longest Retry-After obeyed.
        self.HTTP_CONNECT_TIMEOUT = env_float("HTTP_CONNECT_TIMEOUT", 3.05, 0.1, 60.0)
        self.HTTP_READ_TIMEOUT = env_float("HTTP_READ_TIMEOUT", 10.0, 0.1, 300.0)
        self.HTTP_MAX_TRIES = env_int("HTTP_MAX_TRIES", 4, 1, 10)
        self.HTTP_RETRY_BASE = env_float("HTTP_RETRY_BASE", 0.5, 0.0, 60.0)
        self.HTTP_RETRY_AFTER_CAP = env_float("HTTP_RETRY_AFTER_CAP", 30.0, 0.0, 600.0)

        # Flask and extension settings derived from the above.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.MAX_CONTENT_LENGTH = self.MAX_UPLOAD_MB * 1024 * 1024 + 1024 * 1024
        self.SESSION_COOKIE_NAME = "aura_session"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        # A signed-in cookie expires when its login session does (PERMANENT_SESSION_LIFETIME
        # after signing in, kept by the server); re-signing it on every request adds nothing.
        self.SESSION_REFRESH_EACH_REQUEST = False
        self.SESSION_COOKIE_SECURE = False
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.PERMANENT_SESSION_LIFETIME = timedelta(days=env_int("SESSION_DAYS", 14))
        self.SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 60 * 24 * 3)
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session it is bound to
        self.WTF_CSRF_SSL_STRICT = (
            False  # SameSite=Lax plus the session-bound token already bind origin
        )
        # With Redis, the cache fails open (a miss while Redis is away: aura/caching.py) and
        # the throttles fail closed (aura/services/throttles.py); both recover by themselves.
        self.CACHE_TYPE = cache_type(self.REDIS_URL)
        self.CACHE_REDIS_URL = self.REDIS_URL
        self.CACHE_OPTIONS = dict(REDIS_SOCKET_OPTIONS) if self.REDIS_URL else {}
        self.CACHE_KEY_PREFIX = "aura:"
        self.CACHE_DEFAULT_TIMEOUT = 300
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_STORAGE_OPTIONS = dict(REDIS_SOCKET_OPTIONS) if self.REDIS_URL else {}
        # Route limits (none today) would be skipped while their store is away, never a 500;
        # no in-memory fallback: each process counting alone would let the throttles open.
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = False
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
        self.HSTS = env_flag("HSTS", True)


class TestingConfig(Config):
    NAME = "testing"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = self.SECRET_KEY or "testing-secret-key-not-for-production"
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.CACHE_TYPE = cache_type(self.REDIS_URL)
        # Tests read a view's counts as soon as its request has ended.
        self.VIEW_FLUSH_SECONDS = env_float("VIEW_FLUSH_SECONDS", 0.0, 0.0, 60.0)


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


# Redis answers in well under a millisecond: a second without an answer means it is away.
REDIS_SOCKET_OPTIONS = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}


def cache_type(redis_url: str | None) -> str:
    """Flask-Caching's backend: Aura's fail-open Redis cache with Redis, else process memory."""
    return "aura.caching.SharedCache" if redis_url else "SimpleCache"


def check_media_storage(storage: str, bucket: str | None) -> None:
    """Stop at start-up, in one line, when S3 storage is chosen but cannot work."""
    if storage != "s3":
        return
    if not bucket:
        raise SystemExit("AURA_MEDIA_STORAGE=s3 needs AURA_S3_BUCKET (the bucket's name)")
    try:
        import boto3  # noqa: F401
    except ImportError:
        raise SystemExit(
            "AURA_MEDIA_STORAGE=s3 needs boto3: pip install 'aura[s3]' (or pip install boto3)"
        ) from None


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
