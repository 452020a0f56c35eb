"""Typed values from what people and browsers send: numbers, codes and text, checked once here.

Every integer, decimal or code that comes from a request goes through these functions before it
reaches a rule or a query: ASCII digits only (Python's ``\\d`` and ``int()`` also accept
Arabic-Indic, full-width and other Unicode digits), and bounded, so nothing past 64 bits or
outside what the field means gets further. Text is normalised (NFC), stripped of control
characters and capped, so every stored string is printable and bounded.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date

from aura.errors import Invalid

MAX_ID = 2**63 - 1  # the largest id any table can hold (BIGINT)
_WHOLE = re.compile(r"[0-9]{1,19}", re.ASCII)
_DECIMAL = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?", re.ASCII)
_SEPARATORS = re.compile(r"[\s\-]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def whole_number(
    raw: object, *, low: int, high: int, message: str, field: str | None = None
) -> int:
    """An integer written in ASCII digits between ``low`` and ``high``, else Invalid(message)."""
    text = str(raw).strip() if raw is not None else ""
    if not _WHOLE.fullmatch(text) or not low <= int(text) <= high:
        raise Invalid.field(field, message) if field else Invalid(message)
    return int(text)


def decimal_number(
    raw: object, *, low: float, high: float, message: str, field: str | None = None
) -> float:
    """A decimal such as ``12.5`` in ASCII digits between ``low`` and ``high``."""
    text = str(raw).strip() if raw is not None else ""
    if not _DECIMAL.fullmatch(text):
        raise Invalid.field(field, message) if field else Invalid(message)
    value = float(text)
    if not (math.isfinite(value) and low <= value <= high):
        raise Invalid.field(field, message) if field else Invalid(message)
    return value


def calendar_date(
    raw: object, *, low: date, high: date, message: str, field: str | None = None
) -> date:
    """A day written as ``YYYY-MM-DD`` in ASCII digits (what a date input sends), from ``low``
    to ``high`` inclusive, else Invalid(message)."""
    text = str(raw).strip() if raw is not None else ""
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not low <= day <= high:
        raise Invalid.field(field, message) if field else Invalid(message)
    return day


def ascii_digits(raw: str | None, *, keep: str = "") -> str:
    """A code as typed on any keyboard, in ASCII: Unicode decimal digits (Arabic-Indic,
    full-width) become ASCII digits, spaces and dashes go, letters in ``keep`` stay
    (upper-cased). Anything else is left in place, so the caller's pattern refuses it."""
    out = []
    for ch in _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or "")):
        if ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(ch.upper() if keep and ch.upper() in keep else ch)
    return "".join(out)


def is_id(value: object) -> bool:
    """Whether ``value`` is an int a table's id column can hold."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def one_line(raw: str | None, limit: int | None = None) -> str:
    """NFC text on one line: control characters dropped, whitespace collapsed; cut to
    ``limit`` characters when one is given (for text nobody reads back, such as user agents)."""
    text = unicodedata.normalize("NFC", raw or "")
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if limit is None else text[:limit]


def paragraphs(raw: str | None) -> str:
    """NFC text that keeps its line breaks and tabs; other control characters are dropped."""
    text = unicodedata.normalize("NFC", raw or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch.isprintable() or ch in "\n\t").strip()
