"""The database kinds a backup can hold, and what every operation needs from the live site."""

from __future__ import annotations

import logging
import os
from importlib import metadata
from types import ModuleType

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Flask, current_app

from aura.extensions import MIGRATIONS_DIR, db, migrate
from aura.services.backups import archive, postgres, sqlite
from aura.services.backups.errors import BackupFailed, BackupRefused

log = logging.getLogger(__name__)

KINDS: dict[str, ModuleType] = {sqlite.KIND: sqlite, postgres.KIND: postgres}
LABELS = {sqlite.KIND: "SQLite", postgres.KIND: "PostgreSQL"}


def kind_name(url: sa.URL) -> str:
    name = url.get_backend_name()
    if name not in KINDS:
        raise BackupFailed(f"Aura cannot back up a {name} database.")
    return name


def kind_of(manifest: archive.Manifest) -> ModuleType:
    kind = KINDS.get(manifest.database_kind)
    if kind is None:
        raise BackupRefused(
            f"Backup {manifest.name} holds a {manifest.database_kind} database, which Aura "
            "does not know."
        )
    return kind


def live_url() -> sa.URL:
    return db.engine.url


def scratch_server(kind: str) -> sa.URL | None:
    """Where scratch databases of ``kind`` go: the site's own server, or the configured one."""
    if kind != postgres.KIND:
        return None
    url = live_url()
    if url.get_backend_name() == postgres.KIND:
        return url
    configured = current_app.config.get("BACKUP_SCRATCH_POSTGRES_URL")
    if not configured:
        raise BackupFailed(
            "A PostgreSQL backup can only be checked on a PostgreSQL server: this site runs "
            "SQLite, so set AURA_BACKUP_SCRATCH_POSTGRES_URL."
        )
    return sa.make_url(configured)


def aura_version() -> str:
    try:
        return metadata.version("aura")
    except metadata.PackageNotFoundError:
        return "unknown"


def _scripts() -> ScriptDirectory:
    config = AlembicConfig()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    return ScriptDirectory.from_config(config)


def known_revisions() -> set[str]:
    """Every migration this code has, old and new."""
    return {script.revision for script in _scripts().walk_revisions()}


def code_heads() -> tuple[str, ...]:
    return tuple(sorted(_scripts().get_heads()))


def migrate_to_head(url: str) -> None:
    """Run Aura's migrations on the database at ``url`` (not the live one).

    A bare Flask app carries the URL, so nothing in ``instance/config.py`` can point the
    migrations back at the live database. Alembic runs without its logging file: the caller
    reports which migrations it went through.
    """
    app = Flask("aura.services.backups")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={})
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    config = AlembicConfig()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    with app.app_context():
        try:
            command.upgrade(config, "head")
        finally:
            db.session.remove()
            db.engine.dispose()


def release_live_connections() -> None:
    """Close this process's connections to the live database (a swap needs it unused)."""
    db.session.remove()
    db.engine.dispose()


def inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
