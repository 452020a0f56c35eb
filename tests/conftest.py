"""Fixtures shared by every test.

The schema is built once per run by the migrations themselves, on SQLite or, when
AURA_TEST_DATABASE_URL is set, PostgreSQL; every test starts from empty tables. Requests made
through the test client run in a fresh context of their own, as real requests do, so nothing a
test holds (its session, ``g``, the signed-in user) leaks into them.
"""

from __future__ import annotations

import contextvars
import logging
import os
import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from aura import MIGRATIONS_DIR, create_app, sessions
from aura.blueprints.catalog import shelves
from aura.extensions import cache, limiter
from aura.extensions import db as _db
from aura.services.visitors import Visitor
from config import REDIS_CACHE
from tests.factories import BROWSER_UA

# Fixtures of each part of the site live beside its tests' subject, loaded for every test.
pytest_plugins = [
    "tests.fixtures.accounts",
    "tests.fixtures.backups",
    "tests.fixtures.streaming",
    "tests.fixtures.tmdb",
]

TEST_DATABASE_URL = os.environ.get("AURA_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("AURA_TEST_REDIS_URL")
IN_CI = os.environ.get("CI") == "true"


def need_service(reason: str) -> None:
    """A missing service fails in CI and skips only on a developer's bare machine."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def need_redis() -> str:
    """The Redis URL for tests of what several processes share. CI runs the suite twice: on
    SQLite alone, where these skip, and on PostgreSQL + Redis, where a missing URL fails."""
    if TEST_REDIS_URL:
        return TEST_REDIS_URL
    if IN_CI and TEST_DATABASE_URL:
        pytest.fail("AURA_TEST_REDIS_URL is not set beside AURA_TEST_DATABASE_URL")
    pytest.skip("runs with Redis (AURA_TEST_REDIS_URL)")


class AuraClient(FlaskClient):
    """A test client that looks like a browser (its user agent) and sends the CSRF header as
    the pages do (``csrf=False`` omits it)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_USER_AGENT", BROWSER_UA)

    def open(self, *args, csrf: bool = True, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        # An empty context: the request pushes (and pops) its own app context and session.
        # Buffered, so a streamed body is read inside that context too.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self) -> str:
        """A valid token for this client's session, made the way Flask-WTF makes them."""
        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = session["csrf_token"] = secrets.token_hex(20)
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def session_transaction(self, *args, **kwargs):
        return _ContextFree(super().session_transaction(*args, **kwargs))


class _ContextFree:
    """Runs a context manager's enter and exit outside any app context the test holds."""

    def __init__(self, manager) -> None:
        self.manager = manager
        self.context = contextvars.Context()

    def __enter__(self):
        return self.context.run(self.manager.__enter__)

    def __exit__(self, *exc):
        return self.context.run(self.manager.__exit__, *exc)


def _test_settings(instance_path: str) -> dict:
    settings = {
        "CONFIG_NAME": "testing",
        "TESTING": True,
        "INSTANCE_PATH": instance_path,
        "MEDIA_DIR": os.path.join(instance_path, "media"),
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL
        or "sqlite:///" + os.path.join(instance_path, "test.sqlite3"),
        "REDIS_URL": TEST_REDIS_URL,
        "CACHE_TYPE": REDIS_CACHE if TEST_REDIS_URL else "SimpleCache",
        "CACHE_REDIS_URL": TEST_REDIS_URL,
        "CACHE_KEY_PREFIX": "aura-test:",
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL or "memory://",
        "RATELIMIT_KEY_PREFIX": "aura-test-limits",
        "SECRET_KEY": "test-secret-key",
    }
    if TEST_DATABASE_URL:
        from config import normalise_database_url

        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(TEST_DATABASE_URL)
    return settings


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory) -> Iterator[Flask]:
    instance = str(tmp_path_factory.mktemp("instance"))
    settings = _test_settings(instance)
    if TEST_DATABASE_URL:
        _reset_postgres(settings["SQLALCHEMY_DATABASE_URI"])
    application = create_app(settings)
    application.test_client_class = AuraClient
    with application.app_context():
        from flask_migrate import upgrade

        upgrade(directory=MIGRATIONS_DIR)
    yield application
    with application.app_context():
        _db.engine.dispose()


def _wipe(application: Flask) -> None:
    with application.app_context():
        _db.session.remove()
        with _db.engine.begin() as connection:
            for table in reversed(_db.metadata.sorted_tables):
                connection.execute(table.delete())
        cache.clear()
        shelves.forget_copies()
        limiter.reset()


@pytest.fixture(autouse=True)
def _clean_state(app) -> Iterator[None]:
    yield
    _wipe(app)


class _Unhandled(logging.Handler):
    """Collects what the app logged with a traceback: an unhandled exception in a request."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


@pytest.fixture(autouse=True)
def _no_unhandled_exceptions(request) -> Iterator[None]:
    """Fail any test during which the app logged an unhandled exception (a 500), whatever
    the test itself asserted. A test that provokes one on purpose says so with
    ``@pytest.mark.server_error``."""
    handler = _Unhandled()
    logger = logging.getLogger("aura")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if handler.records and request.node.get_closest_marker("server_error") is None:
        formatter = logging.Formatter()
        details = "\n\n".join(formatter.format(record) for record in handler.records)
        pytest.fail(f"the app logged {len(handler.records)} unhandled exception(s):\n{details}")


@pytest.fixture
def db(app):
    """The database, inside an app context for the test's own queries and factories."""
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def client(app) -> AuraClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def hx() -> dict[str, str]:
    """Headers of an htmx request for a fragment."""
    return {"HX-Request": "true"}


def login_as(client: AuraClient, user, second_factor: bool = False) -> str:
    """Sign ``client`` in as ``user`` without the form: a real session row and token, as the
    sign-in form makes them. Returns the token."""

    def new_row() -> str:
        with client.application.app_context():
            token = sessions.new_session(user, Visitor(), second_factor=second_factor)
            _db.session.commit()
            return token

    token = contextvars.Context().run(new_row)
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session[sessions.SID] = token
        session[sessions.SECOND_FACTOR] = second_factor
    return token
