"""Ranges, conditional requests and the file window handed to the server."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from waitress.buffers import ReadOnlyFileBasedBuffer
from werkzeug.http import http_date
from werkzeug.test import EnvironBuilder

from aura.blueprints.streaming import responses
from aura.services import streaming
from aura.services.streaming import FileSlice, RangeNotSatisfiable, parse_range, plan_response

SIZE = 1000
ETAG = "abc123"
MTIME = 1_700_000_000


@pytest.mark.parametrize(
    ("header", "window"),
    [
        ("bytes=0-1", (0, 2)),  # Safari's probe
        ("bytes=0-", (0, SIZE)),  # Chrome's first request
        ("bytes=500-", (500, SIZE)),
        ("bytes=10-19", (10, 20)),
        ("bytes=-100", (900, SIZE)),  # suffix
        ("bytes=-5000", (0, SIZE)),  # a suffix longer than the file is the whole file
        ("bytes=990-5000", (990, SIZE)),  # an end past the file is clamped
        ("bytes=999-999", (999, SIZE)),
        ("bytes=0-99999999999999999999999999", (0, SIZE)),
        ("BYTES=1-2", (1, 3)),
        ("  bytes=1-2  ", (1, 3)),
    ],
)
def test_single_ranges(header, window):
    assert parse_range(header, SIZE) == window


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-1,5-9",  # several ranges: the whole file, once
        "bytes=0-0, -1",
        "bytes=" + ",".join(["0-"] * 200),  # the overlapping-ranges attack gets one copy
    ],
)
def test_several_ranges_mean_the_whole_file(header):
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize(
    "header",
    [
        "bytes=1000-",  # starts at the end
        "bytes=5000-6000",
        "bytes=-0",  # empty suffix
        "bytes=20-10",  # reversed
        "bytes=abc",
        "bytes=-",
        "bytes=",
        "bytes=1-2-3",
        "bytes 0-1",
        "items=0-1",
        "bytes=\u0660-\u0661",  # Arabic-Indic digits are digits to Python's int(), not to HTTP
        "bytes=\uff11-\uff12",  # full-width digits
        "bytes=0x10-20",
        "bytes=+1-2",
        "bytes=1" + "0" * 60 + "-",  # absurdly long numbers
        "bytes=0-1,abc",  # one bad range spoils the set
        "bytes=0-1,,",
    ],
)
def test_malformed_or_unsatisfiable_ranges(header):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, SIZE)


def test_no_range_of_an_empty_file():
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=0-", 0)


def plan(**headers):
    method = headers.pop("method", "GET")
    return plan_response(
        {k.replace("_", "-"): v for k, v in headers.items()}, method, SIZE, ETAG, MTIME
    )


def test_plain_get_is_the_whole_file_with_validators():
    result = plan()
    assert (result.status, result.start, result.end) == (200, 0, SIZE)
    assert result.headers["Accept-Ranges"] == "bytes"
    assert result.headers["ETag"] == f'"{ETAG}"'
    assert result.headers["Last-Modified"] == http_date(MTIME)


def test_a_range_is_206_with_its_content_range():
    result = plan(Range="bytes=100-199")
    assert (result.status, result.start, result.end, result.length) == (206, 100, 200, 100)
    assert result.headers["Content-Range"] == "bytes 100-199/1000"


def test_unsatisfiable_range_is_416_with_the_size():
    result = plan(Range="bytes=2000-")
    assert result.status == 416
    assert result.headers["Content-Range"] == "bytes */1000"
    assert not result.has_body


def test_if_range_with_the_current_etag_serves_the_range():
    assert plan(Range="bytes=0-9", If_Range=f'"{ETAG}"').status == 206


@pytest.mark.parametrize("validator", ['"stale"', f'W/"{ETAG}"', http_date(MTIME - 60), "garbage"])
def test_if_range_that_does_not_match_serves_the_whole_file(validator):
    result = plan(Range="bytes=0-9", If_Range=validator)
    assert (result.status, result.length) == (200, SIZE)


def test_if_range_with_the_exact_date_serves_the_range():
    assert plan(Range="bytes=0-9", If_Range=http_date(MTIME)).status == 206


def test_if_none_match_is_304():
    assert plan(If_None_Match=f'"{ETAG}"').status == 304
    assert plan(If_None_Match=f'W/"{ETAG}", "other"').status == 304
    assert plan(If_None_Match="*").status == 304
    assert plan(If_None_Match='"other"').status == 200


def test_if_modified_since_is_304_unless_newer():
    assert plan(If_Modified_Since=http_date(MTIME)).status == 304
    assert plan(If_Modified_Since=http_date(MTIME - 1)).status == 200
    assert plan(If_Modified_Since="not a date").status == 200


def test_if_none_match_wins_over_if_modified_since():
    assert plan(If_None_Match='"other"', If_Modified_Since=http_date(MTIME)).status == 200


def test_failed_preconditions_are_412():
    assert plan(If_Match='"other"').status == 412
    assert plan(If_Match=f'"{ETAG}"', Range="bytes=0-0").status == 206
    assert plan(If_Unmodified_Since=http_date(MTIME - 10)).status == 412


def test_a_304_beats_a_range():
    assert plan(If_None_Match=f'"{ETAG}"', Range="bytes=0-1").status == 304


# -- the window handed to the server -----------------------------------------------------------


def test_file_slice_reads_only_its_window():
    window = FileSlice(io.BytesIO(bytes(range(100))), 10, 20)
    assert window.read(3) == bytes([10, 11, 12])
    assert window.read() == bytes(range(13, 20))
    assert window.read() == b""
    assert window.seek(0, os.SEEK_END) == 10
    assert window.seek(-4, os.SEEK_CUR) == 6
    assert window.read(100) == bytes(range(16, 20))
    window.seek(0)
    assert window.tell() == 0 and window.read(1) == bytes([10])


def drain_like_waitress(buffer: ReadOnlyFileBasedBuffer, content_length: int) -> bytes:
    """What waitress's I/O thread sends: prepare(), then get()/skip() until nothing remains."""
    buffer.prepare(content_length)
    sent = b""
    while len(buffer):
        chunk = buffer.get(7)
        buffer.skip(len(chunk), True)
        sent += chunk
    return sent


def test_waitress_file_wrapper_sends_exactly_the_window(tmp_path):
    data = os.urandom(50_000)
    path = tmp_path / "video"
    path.write_bytes(data)
    with open(path, "rb") as fh:
        buffer = ReadOnlyFileBasedBuffer(FileSlice(fh, 12_345, 23_456))
        assert drain_like_waitress(buffer, 23_456 - 12_345) == data[12_345:23_456]


def test_waitress_file_wrapper_iterated_still_stops_at_the_window(tmp_path):
    data = os.urandom(200_000)
    path = tmp_path / "video"
    path.write_bytes(data)
    with open(path, "rb") as fh:
        assert b"".join(ReadOnlyFileBasedBuffer(FileSlice(fh, 1, 100_001), 4096)) == data[1:100_001]


def response_for(path, headers=None, method="GET", file_wrapper=None):
    environ = EnvironBuilder(method=method, headers=headers or {}).get_environ()
    if file_wrapper is not None:
        environ["wsgi.file_wrapper"] = file_wrapper
    media = streaming.MediaFile(path=str(path), content_type="video/mp4", etag=ETAG)
    request_headers = {k: v for k, v in (headers or {}).items()}
    return responses.file_response(environ, request_headers, media)


def test_the_206_body_is_the_servers_own_file_wrapper(tmp_path):
    """Under waitress the body is waitress's wrapper itself, which it sends from its I/O thread."""
    data = os.urandom(10_000)
    path = tmp_path / "video"
    path.write_bytes(data)
    response = response_for(path, {"Range": "bytes=100-"}, file_wrapper=ReadOnlyFileBasedBuffer)
    assert response.status_code == 206
    assert isinstance(response.response, ReadOnlyFileBasedBuffer)
    assert response.headers["Content-Length"] == str(len(data) - 100)
    assert drain_like_waitress(response.response, len(data) - 100) == data[100:]
    response.response.close()


def test_ranges_served_hash_like_the_file(tmp_path):
    data = os.urandom(300_001)
    path = tmp_path / "video"
    path.write_bytes(data)
    pieces = []
    for start in range(0, len(data), 65_536):
        end = min(start + 65_535, len(data) - 1)
        response = response_for(path, {"Range": f"bytes={start}-{end}"})
        assert response.status_code == 206
        pieces.append(b"".join(response.response))
        response.close()
    assert hashlib.sha256(b"".join(pieces)).digest() == hashlib.sha256(data).digest()


def open_fds_to(path) -> int:
    target = os.path.realpath(path)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                count += 1
        except OSError:
            continue
    return count


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("HEAD", {}),
        ("HEAD", {"Range": "bytes=0-1"}),
        ("GET", {"Range": "bytes=9999-"}),
        ("GET", {"If-None-Match": f'"{ETAG}"'}),
        ("GET", {"If-Match": '"nope"'}),
    ],
)
def test_answers_without_a_body_leave_no_file_open(tmp_path, method, headers):
    path = tmp_path / "video"
    path.write_bytes(b"x" * 100)
    response = response_for(path, headers, method=method)
    assert response.response == ()
    assert open_fds_to(path) == 0


def test_head_reports_the_length_it_would_send(tmp_path):
    path = tmp_path / "video"
    path.write_bytes(b"x" * 100)
    response = response_for(path, {"Range": "bytes=0-1"}, method="HEAD")
    assert response.status_code == 206
    assert response.headers["Content-Length"] == "2"
    assert response.headers["Content-Range"] == "bytes 0-1/100"


def test_closing_the_body_closes_the_file(tmp_path):
    path = tmp_path / "video"
    path.write_bytes(b"x" * 100)
    response = response_for(path, {"Range": "bytes=0-9"})
    assert open_fds_to(path) == 1
    response.response.close()
    assert open_fds_to(path) == 0


def test_offload_answers_with_an_internal_redirect_and_no_body():
    media = streaming.MediaFile(
        path="/srv/media/abc", content_type="video/webm", etag=ETAG, offload_path="/_media/abc"
    )
    response = responses.offload_response(media)
    assert response.headers["X-Accel-Redirect"] == "/_media/abc"
    assert response.headers["Content-Type"] == "video/webm"
    assert response.get_data() == b""
