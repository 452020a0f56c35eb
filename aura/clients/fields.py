"""Validators for values read from outside answers: each returns a clean value or None.

Text stays plain text (the templates escape it); numbers are bounded and finite; dates are
ASCII ``YYYY-MM-DD`` only; image paths and video keys must match strict patterns before they
may ever become part of a URL.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

IMAGE_PATH = re.compile(r"/[A-Za-z0-9_-]+\.(jpg|jpeg|png|webp|svg)", re.ASCII)
YOUTUBE_KEY = re.compile(r"[A-Za-z0-9_-]{11}", re.ASCII)
IMAGE_SIZE = re.compile(r"(w|h)[0-9]{1,4}|original", re.ASCII)
VIDEO_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)  # any site's key, before site rules
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,6})?"
    r"(Z|[+-]00:?00)?",
    re.ASCII,
)
# Bidirectional embeddings, overrides and isolates reorder what follows them on screen.
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
MIN_YEAR, MAX_YEAR = 1870, 2200
MAX_ID = 2**31 - 1  # TMDB ids live in 32-bit integer columns


def text(value: Any, limit: int, multiline: bool = False) -> str | None:
    """Printable text, NFC-normalised, spaces collapsed, cut at ``limit``; None when empty."""
    if not isinstance(value, str):
        return None
    # Cut before cleaning: a hostile megabyte of text costs nothing more than ``limit`` does.
    value = unicodedata.normalize("NFC", value[: limit * 4 + 64])
    kept = []
    for ch in value:
        if ch in _BIDI_CONTROLS:
            continue
        if unicodedata.category(ch) == "Cc":
            kept.append("\n" if multiline and ch == "\n" else " ")
            continue
        kept.append(ch)
    cleaned = "".join(kept)
    if multiline:
        lines = (" ".join(line.split()) for line in cleaned.split("\n"))
        cleaned = "\n".join(line for line in lines if line)
    else:
        cleaned = " ".join(cleaned.split())
    return cleaned[:limit].strip() or None


def integer(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def number(value: Any, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        return None
    return value


def identifier(value: Any) -> int | None:
    return integer(value, 1, MAX_ID)


def day(value: Any) -> date | None:
    """A calendar date from ``YYYY-MM-DD``; "" (TMDB's unknown date) and nonsense give None."""
    if not isinstance(value, str):
        return None
    match = _DAY.fullmatch(value.strip())
    if not match:
        return None
    year, month, dom = (int(part) for part in match.groups())
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, dom)
    except ValueError:
        return None


def instant(value: Any) -> datetime | None:
    """A UTC time from an ISO 8601 string such as ``2015-02-26T03:19:25.000Z``."""
    if not isinstance(value, str):
        return None
    match = _INSTANT.fullmatch(value.strip())
    if not match:
        return None
    parts = [int(part) for part in match.groups()[:6]]
    if not MIN_YEAR <= parts[0] <= MAX_YEAR:
        return None
    try:
        return datetime(*parts, tzinfo=UTC)
    except ValueError:
        return None


def image_path(value: Any) -> str | None:
    """A TMDB image file path like ``/abc_D-1.jpg``; anything else (URLs included) is None."""
    if isinstance(value, str) and len(value) <= 200 and IMAGE_PATH.fullmatch(value):
        return value
    return None


def youtube_key(value: Any) -> str | None:
    if isinstance(value, str) and YOUTUBE_KEY.fullmatch(value):
        return value
    return None


def flag(value: Any) -> bool:
    """True only for a JSON true: "false", 1 and "yes" are not booleans."""
    return value is True


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def image_size(value: Any) -> bool:
    return isinstance(value, str) and IMAGE_SIZE.fullmatch(value) is not None


def image_base(url: str, allowed_hosts: tuple[str, ...]) -> bool:
    """An https URL on an allowed host, default port, plain path, no credentials or query."""
    if len(url) > 200 or not url.isascii():
        return False
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and (parts.hostname or "") in allowed_hosts
        and port in (None, 443)
        and parts.username is None
        and not parts.query
        and not parts.fragment
        and all(ch.isalnum() or ch in "/_-." for ch in parts.path)
        and ".." not in parts.path
    )
