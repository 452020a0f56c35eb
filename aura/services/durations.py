"""How long a stored video plays, read from the file itself.

ffprobe (Debian's ffmpeg) answers when it is on the PATH: run without a shell, on the stored
file only, with a time limit. Without it, or when it has no answer, the container's own headers
are read in pure Python: an MP4/MOV's ``moov/mvhd`` box (or ``moov/mvex/mehd`` for a
fragmented file) and a WebM/Matroska's ``Segment/Info`` (``Duration`` and ``TimecodeScale``).
Only the boxes and elements on the way there are read, each read bounded, so a huge or hostile
file costs a few small reads. A file whose duration cannot be read gives None: the site then
says nothing rather than a wrong number.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import struct
import subprocess
from typing import BinaryIO

log = logging.getLogger(__name__)

FFPROBE_TIMEOUT = 10  # seconds; a file ffprobe cannot size in that time gets the fallback
MAX_SECONDS = 7 * 24 * 3600  # a week: anything longer is a broken header, not a video
MAX_STEPS = 4096  # boxes or elements looked at, at most, in one file
MAX_PAYLOAD = 64  # bytes of any one header field read


def ffprobe() -> str | None:
    """The ffprobe program on the PATH, or None."""
    return shutil.which("ffprobe")


def read_duration(path: str) -> float | None:
    """Seconds the video at ``path`` plays, or None when the file does not say."""
    program = ffprobe()
    if program:
        seconds = _probe(program, path)
        if seconds is not None:
            return seconds
    try:
        with open(path, "rb") as fh:
            return _plausible(header_duration(fh))
    except OSError:
        log.warning("could not read the duration of %s", path, exc_info=True)
        return None


def read_duration_of(fh: BinaryIO) -> float | None:
    """Seconds a seekable file plays by its container's headers (an object in a bucket: no
    ffprobe, which reads only local files)."""
    return _plausible(header_duration(fh))


def _plausible(seconds: float | None) -> float | None:
    if seconds is None or not math.isfinite(seconds) or not 0 < seconds <= MAX_SECONDS:
        return None
    return round(seconds, 3)


def _probe(program: str, path: str) -> float | None:
    # "file:" keeps a name from ever being read as another protocol; only local files are read.
    command = [
        program,
        "-v",
        "error",
        "-protocol_whitelist",
        "file",
        "-show_entries",
        "format=duration",
        "-of",
        "default=noprint_wrappers=1:nokey=1",
        "file:" + os.path.abspath(path),
    ]
    try:
        done = subprocess.run(  # noqa: S603 - a fixed program and arguments, no shell
            command,
            capture_output=True,
            timeout=FFPROBE_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        log.warning("ffprobe failed on %s", path, exc_info=True)
        return None
    if done.returncode != 0:
        return None
    try:
        return _plausible(float(done.stdout.decode("ascii", "replace").split()[0]))
    except (IndexError, ValueError):
        return None  # "N/A": ffprobe does not know either


def header_duration(fh: BinaryIO) -> float | None:
    """The duration an MP4/MOV or WebM/Matroska file's headers give, in seconds, or None."""
    head = fh.read(8)
    fh.seek(0)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _matroska_duration(fh)
    if len(head) == 8:
        return _mp4_duration(fh)
    return None


def _size(fh: BinaryIO) -> int:
    return fh.seek(0, os.SEEK_END)


# -- ISO base media (MP4, M4V, MOV) ------------------------------------------------------------


def _boxes(fh: BinaryIO, start: int, end: int, steps: list[int]):
    """(type, payload start, box end) of each box in [start, end), reading headers only."""
    position = start
    while position + 8 <= end:
        steps[0] += 1
        if steps[0] > MAX_STEPS:
            return
        fh.seek(position)
        header = fh.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        payload = position + 8
        if size == 1:  # a 64-bit size follows the type
            large = fh.read(8)
            if len(large) < 8:
                return
            size = struct.unpack(">Q", large)[0]
            payload += 8
        elif size == 0:  # the box runs to the end of its parent
            size = end - position
        if size < payload - position or position + size > end:
            return  # a box that claims to be smaller than its header or overruns: garbage
        yield kind, payload, position + size
        position += size


def _child(fh: BinaryIO, start: int, end: int, wanted: bytes, steps: list[int]):
    for kind, payload, box_end in _boxes(fh, start, end, steps):
        if kind == wanted:
            return payload, box_end
    return None


def _mp4_duration(fh: BinaryIO) -> float | None:
    steps = [0]
    moov = _child(fh, 0, _size(fh), b"moov", steps)
    if moov is None:
        return None
    mvhd = _child(fh, *moov, b"mvhd", steps)
    if mvhd is None:
        return None
    fh.seek(mvhd[0])
    body = fh.read(min(32, mvhd[1] - mvhd[0]))
    if len(body) < 4:
        return None
    if body[0] == 1:  # version 1: 64-bit times and duration
        if len(body) < 32:
            return None
        timescale, duration = struct.unpack(">IQ", body[20:32])
        unknown = 2**64 - 1
    else:
        if len(body) < 20:
            return None
        timescale, duration = struct.unpack(">II", body[12:20])
        unknown = 2**32 - 1
    if duration in (0, unknown):  # a fragmented file keeps its length in mvex/mehd
        duration = _fragmented_duration(fh, moov, steps)
    if not timescale or not duration:
        return None
    return duration / timescale


def _fragmented_duration(fh: BinaryIO, moov: tuple[int, int], steps: list[int]) -> int | None:
    mvex = _child(fh, *moov, b"mvex", steps)
    mehd = mvex and _child(fh, *mvex, b"mehd", steps)
    if not mehd:
        return None
    fh.seek(mehd[0])
    body = fh.read(min(12, mehd[1] - mehd[0]))
    if len(body) >= 12 and body[0] == 1:
        return struct.unpack(">Q", body[4:12])[0]
    if len(body) >= 8:
        return struct.unpack(">I", body[4:8])[0]
    return None


# -- EBML (WebM, Matroska) ---------------------------------------------------------------------

EBML_HEADER = 0x1A45DFA3
SEGMENT = 0x18538067
INFO = 0x1549A966
CLUSTER = 0x1F43B675
TIMECODE_SCALE = 0x2AD7B1
DURATION = 0x4489
UNKNOWN_SIZE = object()


def _vint(fh: BinaryIO, keep_marker: bool):
    """One EBML variable-length integer: an element id (marker kept) or a size."""
    first = fh.read(1)
    if not first:
        return None
    byte = first[0]
    length = 1
    while length <= 8 and not byte & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        return None
    rest = fh.read(length - 1)
    if len(rest) < length - 1:
        return None
    value = byte if keep_marker else byte & (0xFF >> length)
    for extra in rest:
        value = (value << 8) | extra
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return UNKNOWN_SIZE  # every bit set: a live stream whose size was not known
    return value


def _elements(fh: BinaryIO, start: int, end: int, steps: list[int]):
    """(id, payload start, element end or None for an unknown size) in [start, end)."""
    position = start
    while position < end:
        steps[0] += 1
        if steps[0] > MAX_STEPS:
            return
        fh.seek(position)
        element = _vint(fh, keep_marker=True)
        size = _vint(fh, keep_marker=False)
        if element is None or size is None:
            return
        payload = fh.tell()
        if size is UNKNOWN_SIZE:
            yield element, payload, None
            return
        if payload + size > end:
            return
        yield element, payload, payload + size
        position = payload + size


def _read_payload(fh: BinaryIO, start: int, end: int) -> bytes | None:
    if end - start > MAX_PAYLOAD:
        return None
    fh.seek(start)
    data = fh.read(end - start)
    return data if len(data) == end - start else None


def _matroska_duration(fh: BinaryIO) -> float | None:
    size = _size(fh)
    steps = [0]
    segment = None
    for element, payload, end in _elements(fh, 0, size, steps):
        if element == SEGMENT:
            segment = (payload, size if end is None else end)
            break
    if segment is None:
        return None
    for element, payload, end in _elements(fh, *segment, steps):
        if element == CLUSTER:
            return None  # the media began before any Info: nothing to read without scanning
        if element == INFO and end is not None:
            return _info_duration(fh, payload, end, steps)
    return None


def _info_duration(fh: BinaryIO, start: int, end: int, steps: list[int]) -> float | None:
    scale = 1_000_000  # nanoseconds per tick, Matroska's default
    duration = None
    for element, payload, element_end in _elements(fh, start, end, steps):
        if element_end is None:
            return None
        data = _read_payload(fh, payload, element_end)
        if data is None:
            continue
        if element == TIMECODE_SCALE and 1 <= len(data) <= 8:
            scale = int.from_bytes(data, "big")
        elif element == DURATION and len(data) in (4, 8):
            duration = struct.unpack(">f" if len(data) == 4 else ">d", data)[0]
    if duration is None or not scale:
        return None
    return duration * scale / 1e9
