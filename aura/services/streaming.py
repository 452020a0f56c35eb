"""The rules of serving a video file: which bytes a request gets, with which status and headers.

They follow ``send_file(conditional=True, etag=True)``: 200 with ``Accept-Ranges``, one range as
206, ETag and Last-Modified with 304, ``If-Range``, and 416 with ``Content-Range: bytes */N``.
Several ranges in one request are answered as if no range was asked (200, the file once), as
nginx does with ``max_ranges 1``: no multipart bodies, so no amplification.

``plan_response`` decides; the streaming blueprint's ``responses`` module turns the plan into a
WSGI response (or an ``X-Accel-Redirect`` for nginx). ``FileSlice`` is the window of the file
the server sends.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO

from werkzeug.http import http_date, parse_date, parse_etags

# Long runs of digits are not a range anyone means; the cap also bounds the work of int().
_RANGE_SPEC = re.compile(r"(\d{0,40})-(\d{0,40})", re.ASCII)
_UNIT = re.compile(r"bytes=", re.ASCII | re.IGNORECASE)
CACHE_CONTROL = "private, no-cache"  # personal (behind a grant), revalidated, never shared


class RangeNotSatisfiable(Exception):
    """The Range header is malformed or asks for bytes the file does not have."""


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The byte range ``header`` asks of a ``size``-byte file: ``(start, end)``, end exclusive.

    None means "send the whole file": several ranges are served as if no range was asked.
    Raises RangeNotSatisfiable for anything malformed (other units, reversed or non-ASCII
    numbers) or unsatisfiable (starting past the end, an empty suffix).
    """
    value = header.strip()
    if not _UNIT.match(value):
        raise RangeNotSatisfiable("only byte ranges are served")
    specs = [part.strip() for part in value[len("bytes=") :].split(",")]
    parsed = []
    for spec in specs:
        match = _RANGE_SPEC.fullmatch(spec)
        if match is None or match.group(0) == "-":
            raise RangeNotSatisfiable(f"malformed range {spec!r}")
        parsed.append(match.groups())
    if len(parsed) > 1:
        return None
    first, last = parsed[0]
    if size <= 0:
        raise RangeNotSatisfiable("the file is empty")
    if first == "":  # suffix: the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiable("an empty suffix range")
        return max(size - suffix, 0), size
    start = int(first)
    if last == "":
        end = size
    else:
        if int(last) < start:
            raise RangeNotSatisfiable("a reversed range")
        end = min(int(last) + 1, size)
    if start >= size:
        raise RangeNotSatisfiable("the range starts past the end of the file")
    return start, end


@dataclass
class Plan:
    """What to answer: the status, the byte window of the file to send, and the headers."""

    status: int
    start: int = 0
    end: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def has_body(self) -> bool:
        return self.status in (200, 206) and self.length > 0


def _timestamp(value: str | None) -> int | None:
    parsed = parse_date(value) if value else None
    return int(parsed.timestamp()) if parsed is not None else None


def _if_range_matches(value: str, etag: str, mtime: int) -> bool:
    """RFC 9110 13.1.5: a strong ETag comparison, or a date equal to Last-Modified."""
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == f'"{etag}"'
    return _timestamp(value) == mtime


def plan_response(
    headers: Mapping[str, str], method: str, size: int, etag: str, mtime: int
) -> Plan:
    """Decide the answer to a GET or HEAD of a ``size``-byte file from the request headers."""
    base = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{etag}"',
        "Last-Modified": http_date(mtime),
        "Cache-Control": CACHE_CONTROL,
    }
    # Preconditions in RFC 9110 13.2.2 order.
    if_match = headers.get("If-Match")
    if if_match is not None:
        if not parse_etags(if_match).contains(etag):
            return Plan(412, headers=base)
    else:
        unmodified_since = _timestamp(headers.get("If-Unmodified-Since"))
        if unmodified_since is not None and mtime > unmodified_since:
            return Plan(412, headers=base)
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        if parse_etags(if_none_match).contains_weak(etag):
            return Plan(304, headers=base)
    else:
        modified_since = _timestamp(headers.get("If-Modified-Since"))
        if modified_since is not None and mtime <= modified_since:
            return Plan(304, headers=base)

    range_header = headers.get("Range")
    if_range = headers.get("If-Range")
    if range_header is not None and (if_range is None or _if_range_matches(if_range, etag, mtime)):
        try:
            window = parse_range(range_header, size)
        except RangeNotSatisfiable:
            return Plan(416, headers={**base, "Content-Range": f"bytes */{size}"})
        if window is not None:
            start, end = window
            return Plan(
                206,
                start,
                end,
                {**base, "Content-Range": f"bytes {start}-{end - 1}/{size}"},
            )
    return Plan(200, 0, size, base)


class FileSlice:
    """A read-only, seekable window ``[start, end)`` of an open binary file.

    Positions are relative to the window, so to a WSGI server's file wrapper it looks like a
    file of exactly the range's length: waitress sizes what it sends from ``seek(0, 2)``, and a
    generic wrapper reads until ``read`` returns nothing. Closing it closes the file.
    """

    def __init__(self, file: IO[bytes], start: int, end: int) -> None:
        self._file = file
        self._start = start
        self._length = max(end - start, 0)
        self._position = 0
        file.seek(start)

    def read(self, size: int | None = -1) -> bytes:
        remaining = self._length - self._position
        if remaining <= 0:
            return b""
        if size is None or size < 0 or size > remaining:
            size = remaining
        data = self._file.read(size)
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._position
        elif whence == os.SEEK_END:
            offset += self._length
        self._position = min(max(offset, 0), self._length)
        self._file.seek(self._start + self._position)
        return self._position

    def tell(self) -> int:
        return self._position

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True)
class MediaFile:
    """A stored file to serve: where it is, its type and its strong validator.

    A file in a bucket has no path: ``redirect_url`` is a presigned URL for that one object,
    and ``offload_path`` the nginx-internal URI that proxies it."""

    path: str | None
    content_type: str
    etag: str
    offload_path: str | None = None  # the nginx-internal URI, when offloading
    redirect_url: str | None = None  # a presigned URL, for media in a bucket
