"""/healthz and /readyz: whether the database answers, its schema is current, Redis answers."""

from __future__ import annotations

from functools import cache
from typing import Any

import redis
import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import current_app

from aura.extensions import MIGRATIONS_DIR, db


@cache
def migration_heads() -> frozenset[str]:
    """The newest revisions of the migration scripts (read once: they do not change while the
    process runs)."""
    config = AlembicConfig()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def database_revisions() -> frozenset[str]:
    """The revisions the database says it is at (one cheap query, no logging)."""
    with db.engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return frozenset()
        rows = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        return frozenset(row[0] for row in rows)


def check() -> dict[str, Any]:
    """Whether the database answers and its schema is at the newest migration."""
    report: dict[str, Any] = {"status": "ok", "database": "ok", "migrations": "current"}
    try:
        current = database_revisions()
    except sa.exc.SQLAlchemyError as error:
        return {"status": "error", "database": "unreachable", "detail": type(error).__name__}
    heads = migration_heads()
    if current != heads:
        report.update(
            status="error", migrations="behind", current=sorted(current), head=sorted(heads)
        )
    return report


def ready() -> dict[str, Any]:
    """Whether every service a request needs answers: the database, and Redis when set."""
    report: dict[str, Any] = {"status": "ok", "database": "ok"}
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        report.update(status="error", database="unreachable")
    url = current_app.config.get("REDIS_URL")
    if url:
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
            client.ping()
            client.close()
            report["redis"] = "ok"
        except redis.RedisError:
            report.update(status="error", redis="unreachable")
    return report


def schema_problem() -> str | None:
    """A one-line reason the database cannot serve this version of Aura, or None."""
    report = check()
    if report["database"] != "ok":
        return "Aura cannot reach its database: check AURA_DATABASE_URL and that it is running."
    if report["migrations"] != "current":
        current = ", ".join(report["current"]) or "no schema"
        head = ", ".join(report["head"])
        return (
            f"The database is at {current}; this Aura needs {head}. "
            "Run `aura db upgrade` (after `aura backup`), then start again."
        )
    return None
