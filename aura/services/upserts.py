"""Single-statement writes both databases do atomically: insert-if-new and add-to-a-counter.

``INSERT … ON CONFLICT … RETURNING`` exists on SQLite (3.35+) and PostgreSQL alike: concurrent
requests count into the same row without a read-then-write race and without locking it long.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from aura.extensions import db

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _insert(model: type) -> Any:
    return _INSERTS[db.engine.dialect.name](sa.inspect(model).local_table)


def _keys(model: type) -> list[str]:
    return [column.name for column in sa.inspect(model).primary_key]


def insert_new(model: type, **values: Any) -> bool:
    """Insert the row unless one with its key exists; True if this call inserted it."""
    stmt = (
        _insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=_keys(model))
        .returning(sa.literal_column("1"))
    )
    # RETURNING, not rowcount: psycopg reports no rowcount for an INSERT … ON CONFLICT.
    return db.session.execute(stmt).first() is not None


def add(model: type, keys: dict[str, Any], **increments: int) -> None:
    """Add ``increments`` to the counters of the row with ``keys``, creating it at zero first."""
    stmt = _insert(model).values(**keys, **increments)
    table = sa.inspect(model).local_table
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + stmt.excluded[name] for name in increments},
    )
    db.session.execute(stmt)
