"""Opaque keyset cursors: the sort key and id of the last item a page showed.

Every list that scrolls (catalog rows, genres, watchlists, reviews) pages with these, never with
OFFSET, so a deep page costs what the first page costs. A cursor names the kind of key it holds,
and a list only accepts a cursor of its own kind. The tie-break is the row's id: a number, or a
UUID for tables keyed by one (videos).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from aura.errors import Invalid
from aura.extensions import db


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    next_cursor: str | None  # None on the last page
    last_cursor: str | None = None  # the last item's, also on the last page (for ``until``)


BAD_CURSOR = "That page link is broken or out of date. Start again from the first page."


KINDS = ("number", "date", "datetime", "text")
MAX_CURSOR = 400
# What a sort key can sanely be: a cursor outside this is not one Aura made.
MAX_NUMBER = 1e18
MIN_DATE, MAX_DATE = date(1800, 1, 1), date(2200, 12, 31)
MAX_TEXT = 300


class BadCursor(Invalid):
    """A page link whose cursor Aura did not make (or no longer understands): 400, and the
    page offers to start again from the first page."""

    def __init__(self) -> None:
        super().__init__(BAD_CURSOR)


_UUID_HEX = re.compile(r"[0-9a-f]{32}")


def encode(kind: str, value: Any, item_id: int | uuid.UUID) -> str:
    if kind in ("date", "datetime"):
        value = value.isoformat()
    if isinstance(item_id, uuid.UUID):
        item_id = item_id.hex
    raw = json.dumps([kind, value, item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _value(kind: str, value: Any) -> Any:
    """The sort key a cursor carries, checked to be one a row can have (ValueError if not)."""
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError
        if not (math.isfinite(value) and abs(value) <= MAX_NUMBER):
            raise ValueError
        return value
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ValueError
    if kind == "datetime":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError
        parsed = parsed.astimezone(UTC)  # year 1 at +14:00 is before year 1: OverflowError
        if not MIN_DATE <= parsed.date() <= MAX_DATE:
            raise ValueError
        return parsed
    if kind == "date":
        parsed_date = date.fromisoformat(value)
        if not MIN_DATE <= parsed_date <= MAX_DATE:
            raise ValueError
        return parsed_date
    return value


def _id(item_id: Any, uuid_ids: bool) -> int | uuid.UUID:
    if uuid_ids:
        if not isinstance(item_id, str) or not _UUID_HEX.fullmatch(item_id):
            raise ValueError
        return uuid.UUID(hex=item_id)
    if not isinstance(item_id, int) or isinstance(item_id, bool) or not 0 < item_id < 2**63:
        raise ValueError
    return item_id


def decode(cursor: str, kind: str, uuid_ids: bool = False) -> tuple[Any, Any]:
    """(sort key, id) from a cursor made for this kind of list; anything else is Invalid.

    ``uuid_ids``: the list's rows are keyed by UUIDs, not numbers."""
    if len(cursor) > MAX_CURSOR or not cursor.isascii():
        raise BadCursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found_kind, value, item_id = json.loads(raw)
        if found_kind != kind:
            raise ValueError
        return _value(kind, value), _id(item_id, uuid_ids)
    except (
        binascii.Error,
        ValueError,
        TypeError,
        UnicodeDecodeError,
        OverflowError,
        RecursionError,
    ):
        raise BadCursor() from None


def keyset_condition(key: Any, id_column: Any, kind: str, descending: bool, cursor: str | None):
    """The keyset condition for rows after ``cursor`` in ``(key, id)`` order; None at the start."""
    if not cursor:
        return None
    uuid_ids = isinstance(id_column.type, sa.Uuid)
    value, last_id = decode(cursor, kind, uuid_ids)
    row = sa.tuple_(key, id_column)
    bound = sa.tuple_(sa.literal(value, key.type), sa.literal(last_id, id_column.type))
    return row < bound if descending else row > bound


def order(key: Any, id_column: Any, descending: bool) -> tuple[Any, Any]:
    if descending:
        return key.desc(), id_column.desc()
    return key.asc(), id_column.asc()


def _rows(stmt: sa.Select, key: Any, id_column: Any, descending: bool, limit: int) -> list:
    return db.session.execute(
        stmt.add_columns(key.label("cursor_key"), id_column.label("cursor_id"))
        .order_by(*order(key, id_column, descending))
        .limit(limit)
    ).all()


def paginate(
    stmt: sa.Select,
    key: Any,
    id_column: Any,
    kind: str,
    descending: bool,
    after: str | None,
    limit: int,
    until: str | None = None,
) -> Page:
    """One page of ``stmt``'s first entity in ``(key, id)`` order, continuing after ``after``.

    Fetches one row more than the page holds to know whether another page follows. With
    ``until`` (a cursor of this list) the page is every item from the start up to and including
    that one, at most ``limit``: a page reloaded after infinite scroll shows what it showed.
    """
    if until:
        return _until(stmt, key, id_column, kind, descending, until, limit)
    condition = keyset_condition(key, id_column, kind, descending, after)
    if condition is not None:
        stmt = stmt.where(condition)
    rows = _rows(stmt, key, id_column, descending, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    last = encode(kind, rows[-1].cursor_key, rows[-1].cursor_id) if rows else None
    return Page([row[0] for row in rows], last if more else None, last)


def _until(stmt, key, id_column, kind, descending, until: str, limit: int) -> Page:
    value, last_id = decode(until, kind)
    row = sa.tuple_(key, id_column)
    bound = sa.tuple_(sa.literal(value, key.type), sa.literal(last_id))
    rows = _rows(
        stmt.where(row >= bound if descending else row <= bound), key, id_column, descending, limit
    )
    if not rows:
        return Page([], None, None)
    last = encode(kind, rows[-1].cursor_key, rows[-1].cursor_id)
    after_last = keyset_condition(key, id_column, kind, descending, last)
    more = db.session.execute(stmt.where(after_last).limit(1)).first() is not None
    return Page([row[0] for row in rows], last if more else None, last)
