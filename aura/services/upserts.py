"""Single-statement writes both databases do atomically: insert-if-new and add-to-a-counter.

``INSERT … ON CONFLICT … RETURNING`` exists on SQLite (3.35+) and PostgreSQL alike: concurrent
requests count into the same row without a read-then-write race and without locking it long.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from aura.extensions import db

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _keys(model: type) -> list[str]:
    return [column.name for column in sa.inspect(model).primary_key]


# Each statement is built once per (dialect, table, columns) and executed with its values as
# parameters: a view writes several of these, and building them anew each time cost more than
# running them.
@cache
def _insert_new_statement(dialect: str, model: type, keys_back: bool) -> Any:
    """Insert-if-new; RETURNING a 1, or the row's key (``keys_back``), for each row inserted
    (RETURNING, not rowcount: psycopg reports no rowcount for an INSERT … ON CONFLICT)."""
    table = sa.inspect(model).local_table
    stmt = _INSERTS[dialect](table).on_conflict_do_nothing(index_elements=_keys(model))
    if keys_back:
        return stmt.returning(*(table.c[name] for name in _keys(model)))
    return stmt.returning(sa.literal_column("1"))


@cache
def _add_statement(dialect: str, model: type, keys: tuple[str, ...], counters: tuple[str, ...]):
    table = sa.inspect(model).local_table
    stmt = _INSERTS[dialect](table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + stmt.excluded[name] for name in counters},
    )


def insert_new(model: type, **values: Any) -> bool:
    """Insert the row unless one with its key exists; True if this call inserted it."""
    stmt = _insert_new_statement(db.engine.dialect.name, model, False)
    return db.session.execute(stmt, values).first() is not None


def add(model: type, keys: dict[str, Any], **increments: int) -> None:
    """Add ``increments`` to the counters of the row with ``keys``, creating it at zero first."""
    stmt = _add_statement(db.engine.dialect.name, model, tuple(keys), tuple(increments))
    db.session.execute(stmt, {**keys, **increments})


def insert_new_many(model: type, rows: Sequence[dict[str, Any]]) -> set[tuple]:
    """Insert each row unless one with its key exists (one executemany); the keys of the rows
    this call inserted."""
    if not rows:
        return set()
    stmt = _insert_new_statement(db.engine.dialect.name, model, True)
    return {tuple(row) for row in db.session.execute(stmt, list(rows))}


def add_many(model: type, keys: tuple[str, ...], rows: Sequence[dict[str, Any]]) -> None:
    """``add`` for many rows at once (one executemany): each row holds its keys and the same
    counters to add."""
    if not rows:
        return
    counters = tuple(name for name in rows[0] if name not in keys)
    stmt = _add_statement(db.engine.dialect.name, model, keys, counters)
    db.session.execute(stmt, list(rows))
