"""Opaque keyset cursors: the sort value and id of the last item a page showed."""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import date

from aura.errors import Invalid

BAD_CURSOR = "That page link is broken or out of date. Start again from the first page."


def encode(value: float | int | date | None, item_id: int) -> str:
    if isinstance(value, date):
        payload = ["d", value.isoformat(), item_id]
    else:
        payload = ["n", value, item_id]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[float | int | date, int]:
    """Return (sort value, id), or raise Invalid for anything that is not a cursor we made."""
    if len(cursor) > 200:
        raise Invalid(BAD_CURSOR)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, value, item_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise Invalid(BAD_CURSOR) from None
    if not isinstance(item_id, int) or isinstance(item_id, bool) or not 0 < item_id < 2**63:
        raise Invalid(BAD_CURSOR)
    if kind == "d" and isinstance(value, str):
        try:
            return date.fromisoformat(value), item_id
        except ValueError:
            raise Invalid(BAD_CURSOR) from None
    if kind == "n" and isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise Invalid(BAD_CURSOR)
        return value, item_id
    raise Invalid(BAD_CURSOR)
