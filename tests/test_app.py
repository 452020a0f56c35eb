"""App-wide behaviour: security headers, errors, health, client IPs behind proxies."""

import sqlalchemy as sa

from aura import create_app
from aura.models import View
from tests.conftest import AuraClient, _test_settings
from tests.factories import make_movie


def test_every_page_sends_the_security_headers(client, db):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "frame-src 'none'" in csp  # YouTube's player only with TMDB configured
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "private" in response.headers["Cache-Control"]


def test_the_session_cookie_is_httponly_and_lax(client, db):
    response = client.get("/")  # every page carries a CSRF token, so it sets the session
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain http


def test_production_cookies_are_secure(app):
    settings = {**_test_settings(app.instance_path), "CONFIG_NAME": "production"}
    production = create_app(settings)
    assert production.config["SESSION_COOKIE_SECURE"] is True
    production.test_client_class = AuraClient
    response = production.test_client().get("/healthz")
    assert "Strict-Transport-Security" in response.headers


def test_htmx_is_configured_for_a_strict_csp(client, db):
    text = client.get("/").get_data(as_text=True)
    assert '"includeIndicatorStyles": false' in text and '"allowEval": false' in text
    assert "/static/vendor/htmx-2.0." in text and "<script>" not in text
    assert ' style="' not in text and " onclick=" not in text


def test_static_assets_are_versioned_and_served(client):
    text = client.get("/").get_data(as_text=True)
    for path in ("/static/css/aura.css?v=", "/static/js/app.js?v="):
        assert path in text
    assert client.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200


def test_healthz_reports_database_and_migrations(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "migrations": "current"}


def test_healthz_fails_when_migrations_have_not_run(app, tmp_path):
    settings = {
        **_test_settings(str(tmp_path)),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/empty.sqlite3",
    }
    response = create_app(settings).test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["migrations"] == "behind" and body["current"] == []


def test_a_site_without_a_schema_says_what_to_run(app, tmp_path):
    settings = {
        **_test_settings(str(tmp_path)),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/empty.sqlite3",
    }
    response = create_app(settings).test_client().get("/")
    assert response.status_code == 503
    assert "aura db upgrade" in response.get_data(as_text=True)


def test_wrong_methods_and_unknown_paths_get_clear_answers(client):
    response = client.post("/healthz")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert client.get("/no/such/page").status_code == 404
    assert "Not found" in client.get("/no/such/page").get_data(as_text=True)


def test_forged_forwarded_for_is_ignored_without_trusted_hops(client, db):
    movie = make_movie()
    client.get(f"/movies/{movie.id}", headers={"X-Forwarded-For": "203.0.113.9"})
    assert db.session.scalar(sa.select(View.client_ip)) == "127.0.0.1"


def proxied_client(app, **overrides):
    behind_proxy = create_app(
        {**_test_settings(app.instance_path), "TRUSTED_PROXY_HOPS": 1, **overrides}
    )
    behind_proxy.test_client_class = AuraClient
    return behind_proxy.test_client()


def test_with_one_trusted_hop_the_proxy_address_is_used(app, db):
    movie = make_movie()
    proxied_client(app).get(
        f"/movies/{movie.id}", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
    )
    # Only the hop our proxy added is trusted: the client-supplied first entry is not.
    assert db.session.scalar(sa.select(View.client_ip)) == "203.0.113.9"


def test_garbage_forwarded_addresses_are_stored_as_unknown(app, db):
    movie = make_movie()
    response = proxied_client(app).get(
        f"/movies/{movie.id}", headers={"X-Forwarded-For": "not-an-ip\u202e"}
    )
    assert response.status_code == 200
    assert db.session.scalar(sa.select(View.client_ip)) is None


def test_ip_modes_truncate_or_hash(app, db):
    movie = make_movie()
    for mode in ("truncated", "hashed"):
        proxied_client(app, IP_MODE=mode).get(
            f"/movies/{movie.id}", headers={"X-Forwarded-For": "203.0.113.77"}
        )
    stored = sorted(db.session.scalars(sa.select(View.client_ip)))
    assert stored[0] == "203.0.113.0"
    assert stored[1].startswith("h:") and "203.0.113" not in stored[1]


def test_sqlite_is_tuned_for_a_web_server(db):
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL needs no per-connection tuning
    with db.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 5000


def test_an_oversized_post_anywhere_gets_the_clear_413_page(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    for url in ("/auth/login", "/auth/register", "/library/watchlist/1"):
        response = client.post(url, data={"next": "/", "padding": "x" * 5000})
        assert response.status_code == 413, url
        assert "larger than this site accepts" in response.get_data(as_text=True)


def test_an_anonymous_visitor_answers_role_questions_like_a_user(app):
    from flask_login import current_user

    with app.test_request_context("/"):
        assert current_user.is_authenticated is False
        assert current_user.is_supervisor is False
