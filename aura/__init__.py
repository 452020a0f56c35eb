"""Aura: a self-hosted movie catalog and video streaming site."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from aura import cli, extensions, requestlog, security, sessions, web
from aura.blueprints import register_blueprints
from aura.extensions import MIGRATIONS_DIR
from config import Config, load_config

__all__ = ["MIGRATIONS_DIR", "create_app"]


def create_app(config: Config | str | Mapping[str, Any] | None = None) -> Flask:
    """Build an Aura application.

    ``config`` is a Config instance, the name of one (development, production, testing), or a
    mapping of overrides applied on top of the environment's configuration.
    """
    settings = _settings(config)
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        instance_relative_config=True,
    )
    app.config.update(settings)
    app.config.from_pyfile("config.py", silent=True)
    _ensure_secret_key(app)

    if app.config["TRUSTED_PROXY_HOPS"] > 0:
        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Pre-ping (a round trip on every checkout) finds connections a database server
        # dropped; a SQLite file drops none, and every request would pay for it.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=MIGRATIONS_DIR)
    extensions.login_manager.init_app(app)
    extensions.csrf.init_app(app)
    extensions.cache.init_app(app)
    extensions.limiter.init_app(app)
    requestlog.init_app(app)
    security.init_app(app)
    sessions.init_app(app)
    web.init_app(app)
    register_blueprints(app)
    cli.register_commands(app)
    return app


def _settings(config: Config | str | Mapping[str, Any] | None) -> dict[str, Any]:
    if isinstance(config, Config):
        base = config
    elif isinstance(config, str):
        base = load_config(config)
    else:
        base = load_config((config or {}).get("CONFIG_NAME"))
    settings = {key: getattr(base, key) for key in dir(base) if key.isupper()}
    settings["CONFIG_NAME"] = base.NAME
    if isinstance(config, Mapping):
        settings.update(config)
    return settings


def _ensure_secret_key(app: Flask) -> None:
    """Use AURA_SECRET_KEY; outside production, generate one once into the instance folder."""
    if app.config.get("SECRET_KEY"):
        return
    if app.config["CONFIG_NAME"] == "production":
        raise SystemExit(
            "Aura refuses to start in production without a secret key: set AURA_SECRET_KEY."
        )
    os.makedirs(app.instance_path, exist_ok=True)
    path = os.path.join(app.instance_path, "secret_key")
    try:
        with open(path, encoding="ascii") as fh:
            app.config["SECRET_KEY"] = fh.read().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race; use its key
            with open(path, encoding="ascii") as fh:
                key = fh.read().strip()
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(key)
        app.config["SECRET_KEY"] = key
