"""Production serving: a schema that is behind stops `aura serve`, trusted hosts, HSTS, request
logs without secrets, request ids, and cheap health checks."""

from __future__ import annotations

import json
import logging

import pytest
from flask_migrate import upgrade

from aura import MIGRATIONS_DIR, create_app
from aura.extensions import db as _db
from aura.services import resets
from aura.services.visitors import Visitor
from tests.conftest import AuraClient, _test_settings
from tests.factories import make_user


def site(tmp_path, **overrides):
    settings = {
        **_test_settings(str(tmp_path)),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/site.sqlite3",
        **overrides,
    }
    application = create_app(settings)
    application.test_client_class = AuraClient
    return application


def test_serve_refuses_a_database_whose_migrations_are_behind(tmp_path):
    application = site(tmp_path)
    with application.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0003_sign_in_rows")
        result = application.test_cli_runner().invoke(args=["serve", "--port", "1"])
        _db.engine.dispose()
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "0003_sign_in_rows" in lines[0] and "aura db upgrade" in lines[0]


def test_serve_refuses_an_empty_database_too(tmp_path):
    application = site(tmp_path)
    result = application.test_cli_runner().invoke(args=["serve", "--port", "1"])
    assert result.exit_code == 1 and "aura db upgrade" in result.output


def test_only_trusted_hosts_are_answered(app, tmp_path):
    application = site(tmp_path, TRUSTED_HOSTS=["aura.example"])
    with application.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    client = application.test_client()
    assert client.get("/healthz", headers={"Host": "aura.example"}).status_code == 200
    forged = client.get("/", headers={"Host": "evil.example"})
    assert forged.status_code == 400
    assert "evil.example" not in forged.text
    with application.app_context():
        _db.engine.dispose()


@pytest.mark.parametrize(
    ("name", "overrides", "expected"),
    [
        ("production", {}, True),
        ("production", {"HSTS": False}, False),
        ("development", {}, False),
    ],
)
def test_hsts_is_sent_behind_tls_only(app, name, overrides, expected):
    settings = {**_test_settings(app.instance_path), "CONFIG_NAME": name}
    if name == "production":
        from config import ProductionConfig

        settings["HSTS"] = ProductionConfig().HSTS
    settings.update(overrides)
    application = create_app(settings)
    response = application.test_client().get("/healthz")
    assert ("Strict-Transport-Security" in response.headers) is expected


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(record.getMessage()))


@pytest.fixture
def request_lines():
    handler = Lines()
    logger = logging.getLogger("aura.requests")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_every_request_is_one_json_line_without_secrets(client, db, request_lines):
    token = resets.issue(make_user().id, Visitor())
    response = client.post(
        f"/auth/reset/{token}?code=123456&next=/secret",
        data={"new_password": "hunter2 hunter2 hunter2", "confirm_password": "nope"},
    )
    (line,) = [entry for entry in request_lines if entry["endpoint"] == "auth.reset_password"]
    assert line["path"] == "/auth/reset/<token>"
    assert line["query"] == ["code", "next"]
    assert line["status"] == response.status_code and line["method"] == "POST"
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert isinstance(line["ms"], float) and line["ip"]
    text = json.dumps(request_lines)
    for secret in (token, "hunter2", "123456", "/secret", "aura_session"):
        assert secret not in text


def test_the_request_id_is_on_every_answer_and_on_error_pages(client, db):
    ok = client.get("/healthz")
    missing = client.get("/movies/424242")
    assert ok.headers["X-Request-Id"] != missing.headers["X-Request-Id"]
    assert missing.headers["X-Request-Id"] in missing.text


def test_an_incoming_request_id_is_kept_only_from_a_trusted_proxy(app, client, tmp_path, db):
    assert (
        client.get("/healthz", headers={"X-Request-Id": "abcdef123456"}).headers["X-Request-Id"]
        != "abcdef123456"
    )
    behind = site(tmp_path, TRUSTED_PROXY_HOPS=1)
    kept = behind.test_client().get("/healthz", headers={"X-Request-Id": "abcdef123456"})
    assert kept.headers["X-Request-Id"] == "abcdef123456"
    refused = behind.test_client().get("/healthz", headers={"X-Request-Id": "bad id <x>"})
    assert refused.headers["X-Request-Id"] != "bad id <x>"


def test_health_checks_are_cheap_and_quiet(client, db, caplog):
    caplog.set_level(logging.INFO, logger="alembic")
    for _ in range(3):
        assert client.get("/healthz").json["migrations"] == "current"
    assert not [record for record in caplog.records if record.name.startswith("alembic")]
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["database"] == "ok"


def test_readyz_says_when_redis_is_away(tmp_path):
    application = site(tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    response = application.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["redis"] == "unreachable"
