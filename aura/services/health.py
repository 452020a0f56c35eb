"""/healthz: whether the database answers and its schema is at the newest migration."""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from aura.extensions import MIGRATIONS_DIR, db


@cache
def migration_heads() -> frozenset[str]:
    """The newest revisions of the migration scripts (read once: they do not change while the
    process runs)."""
    config = AlembicConfig()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def check() -> dict[str, Any]:
    """Whether the database answers and its schema is at the newest migration."""
    report: dict[str, Any] = {"status": "ok", "database": "ok", "migrations": "current"}
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa.exc.SQLAlchemyError as error:
        return {"status": "error", "database": "unreachable", "detail": type(error).__name__}
    heads = migration_heads()
    if current != heads:
        report.update(
            status="error", migrations="behind", current=sorted(current), head=sorted(heads)
        )
    return report
