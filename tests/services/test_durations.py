"""Durations read from the stored file: ffprobe when installed, else the container's headers."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess

import pytest

from aura.services import durations
from tests.conftest import need_service
from tests.factories import SAMPLE_LOCKED_MP4, SAMPLE_MP4, _boxes, sample_bytes

SAMPLES = [SAMPLE_MP4, SAMPLE_LOCKED_MP4]


class CountingReader(io.RawIOBase):
    """A file that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)
        self.bytes_read = 0
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.inner.read(size)
        self.bytes_read += len(chunk)
        self.reads += 1
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()


def headers(data: bytes) -> float | None:
    return durations.header_duration(io.BytesIO(data))


@pytest.fixture
def no_ffprobe(monkeypatch):
    """ffprobe is not installed: nothing may try to run it."""
    monkeypatch.setattr(durations, "ffprobe", lambda: None)

    def refuse(*args, **kwargs):
        raise AssertionError("ran a program although ffprobe is not installed")

    monkeypatch.setattr(subprocess, "run", refuse)


def ffmpeg_program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        need_service(f"{name} is not installed (apt-get install ffmpeg)")
    return found


@pytest.mark.parametrize("path", SAMPLES)
def test_the_samples_last_thirty_seconds(path):
    assert durations.read_duration(path) == 30.0


@pytest.mark.parametrize("path", SAMPLES)
def test_without_ffprobe_the_mp4_header_says_thirty_seconds(path, no_ffprobe):
    assert durations.read_duration(path) == 30.0


@pytest.mark.parametrize("path", SAMPLES)
def test_ffprobe_reads_the_samples(path):
    program = ffmpeg_program("ffprobe")
    assert durations._probe(program, path) == 30.0


def make_webm(tmp_path, seconds: float) -> str:
    """A real WebM file of ``seconds`` made by ffmpeg."""
    ffmpeg = ffmpeg_program("ffmpeg")
    path = tmp_path / "made.webm"
    subprocess.run(
        [
            ffmpeg, "-v", "error", "-y", "-f", "lavfi",
            "-i", "testsrc=size=64x48:rate=10", "-t", str(seconds),
            "-c:v", "libvpx", "-b:v", "50k", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return str(path)


def test_a_webm_made_by_ffmpeg_both_ways(tmp_path, monkeypatch):
    path = make_webm(tmp_path, 3.5)
    assert durations.read_duration(path) == 3.5  # ffprobe
    monkeypatch.setattr(durations, "ffprobe", lambda: None)
    assert durations.read_duration(path) == 3.5  # its Segment/Info header
    with open(path, "rb") as fh:
        assert durations.header_duration(fh) == 3.5


# -- hand-made headers, for the parts no sample shows ------------------------------------------


def box(kind: bytes, payload: bytes, large: bool = False) -> bytes:
    if large:
        return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    if version == 1:
        body = struct.pack(">B3xQQIQ", 1, 0, 0, timescale, duration)
    else:
        body = struct.pack(">B3xIIII", 0, 0, 0, timescale, duration)
    return box(b"mvhd", body + bytes(80))


FTYP = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")


def test_mvhd_version_0_and_1():
    assert headers(FTYP + box(b"moov", mvhd(600, 600 * 95))) == 95.0
    assert headers(FTYP + box(b"moov", mvhd(90000, 90000 * 7265, version=1))) == 7265.0
    # 64-bit box sizes and a moov after the media data are read the same way.
    mdat = box(b"mdat", bytes(5000), large=True)
    assert headers(FTYP + mdat + box(b"moov", mvhd(1000, 12345), large=True)) == 12.345


def test_a_fragmented_mp4_keeps_its_length_in_mehd():
    mehd = box(b"mehd", struct.pack(">B3xI", 0, 48000 * 20))
    moov = box(b"moov", mvhd(48000, 0) + box(b"mvex", mehd))
    assert headers(FTYP + moov) == 20.0
    without = box(b"moov", mvhd(48000, 0) + box(b"mvex", b""))
    assert headers(FTYP + without) is None  # the length is nowhere in the headers: unknown


def test_only_the_headers_on_the_way_are_read():
    """A moov behind 64 MB of media: a few small reads, not the file."""
    data = sample_bytes()
    top = {kind: (start, end) for kind, start, _body, end in _boxes(data, 0, len(data))}
    ftyp, moov = data[slice(*top["ftyp"])], data[slice(*top["moov"])]
    padding = 64 * 1024 * 1024
    mdat = struct.pack(">I4s", 8 + padding, b"mdat") + bytes(padding)
    reader = CountingReader(ftyp + mdat + moov)
    assert durations.header_duration(reader) == 30.0
    assert reader.bytes_read < 4096 and reader.reads < 100


def ebml_id(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def ebml_size(size: int) -> bytes:
    return bytes([0x08]) + size.to_bytes(4, "big")  # a 5-byte size, as muxers often write


def element(number: int, payload: bytes, unknown_size: bool = False) -> bytes:
    size = b"\x01\xff\xff\xff\xff\xff\xff\xff" if unknown_size else ebml_size(len(payload))
    return ebml_id(number) + size + payload


EBML = element(0x1A45DFA3, element(0x4282, b"webm"))


def matroska(info: bytes, unknown_size: bool = False, before: bytes = b"") -> bytes:
    seekhead = element(0x114D9B74, bytes(20))
    void = element(0xEC, bytes(30))
    segment = seekhead + void + before + element(0x1549A966, info) + element(0x1F43B675, b"")
    return EBML + element(0x18538067, segment, unknown_size=unknown_size)


def test_matroska_duration_and_timecode_scale():
    double = element(0x4489, struct.pack(">d", 12500.0))
    assert headers(matroska(double)) == 12.5  # default scale: milliseconds
    scaled = element(0x2AD7B1, (100_000).to_bytes(3, "big")) + element(
        0x4489, struct.pack(">f", 300.0)
    )
    assert headers(matroska(scaled)) == pytest.approx(0.03)  # 300 ticks of 0.1 ms
    # A live recording: the segment's size was unknown when it was written; still readable.
    assert headers(matroska(double, unknown_size=True)) == 12.5


def test_a_webm_without_a_duration_says_nothing():
    scale_only = element(0x2AD7B1, (1_000_000).to_bytes(3, "big"))
    assert headers(matroska(scale_only, unknown_size=True)) is None
    # Media before any Info: the headers hold no duration to read.
    cluster_first = EBML + element(0x18538067, element(0x1F43B675, bytes(100)))
    assert headers(cluster_first) is None


TRUNCATED = sample_bytes()[:5000]  # cut inside its moov box
GARBAGE = [
    b"",
    b"\x00",
    b"garbage!" * 100,
    bytes(range(256)) * 40,
    TRUNCATED,
    FTYP,  # no moov at all
    FTYP + struct.pack(">I4s", 4, b"moov"),  # a box smaller than its own header
    FTYP + struct.pack(">I4s", 2**31, b"moov") + bytes(100),  # a box past the end
    FTYP + box(b"moov", box(b"mvhd", b"\x00\x00")),  # an mvhd cut short
    FTYP + box(b"moov", mvhd(0, 1000)),  # no timescale
    FTYP + box(b"moov", mvhd(1000, 2**32 - 1)),  # "unknown" duration
    FTYP + box(b"moov", mvhd(1, 2**63, version=1)),  # billions of years
    struct.pack(">I4s", 0, b"moov"),  # a box "to the end of the file" with nothing in it
    b"\x1a\x45\xdf\xa3",  # an EBML magic and nothing else
    b"\x1a\x45\xdf\xa3\x00" + bytes(50),  # an invalid EBML size
    EBML + element(0x18538067, element(0x1549A966, element(0x4489, b"\x01\x02\x03"))),
    EBML + element(0x18538067, element(0x1549A966, element(0x4489, struct.pack(">d", -5.0)))),
    EBML + element(0x18538067, element(0x1549A966, element(0x4489, struct.pack(">d", 1e300)))),
    matroska(element(0x4489, struct.pack(">d", float("nan")))),
    EBML + ebml_id(0x18538067) + ebml_size(10**9) + bytes(10),  # a segment past the end
    b"OggS\x00\x02" + bytes(100),  # Ogg: only ffprobe knows its length
]


@pytest.mark.parametrize("data", GARBAGE, ids=range(len(GARBAGE)))
def test_truncated_or_garbage_files_have_no_duration(data, tmp_path, no_ffprobe):
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    assert durations.read_duration(str(path)) is None


@pytest.mark.parametrize("data", [TRUNCATED, b"garbage!" * 100], ids=["truncated", "garbage"])
def test_ffprobe_on_a_broken_file_gives_nothing_and_no_exception(data, tmp_path):
    ffmpeg_program("ffprobe")
    path = tmp_path / "broken.mp4"
    path.write_bytes(data)
    assert durations.read_duration(str(path)) is None


def test_a_missing_file_has_no_duration(tmp_path):
    assert durations.read_duration(str(tmp_path / "gone.mp4")) is None


@pytest.mark.parametrize(
    "failure",
    [
        subprocess.TimeoutExpired("ffprobe", durations.FFPROBE_TIMEOUT),
        FileNotFoundError("ffprobe"),
        PermissionError("ffprobe"),
    ],
    ids=["timeout", "vanished", "not executable"],
)
def test_when_ffprobe_fails_the_headers_answer(failure, monkeypatch):
    monkeypatch.setattr(durations, "ffprobe", lambda: "/usr/bin/ffprobe")

    def fail(*args, **kwargs):
        raise failure

    monkeypatch.setattr(subprocess, "run", fail)
    assert durations.read_duration(SAMPLE_MP4) == 30.0


@pytest.mark.parametrize("answer", [b"N/A\n", b"", b"-3\n", b"inf\n", b"nan\n", b"\xff\xfe"])
def test_an_ffprobe_answer_that_is_not_a_length_is_not_stored(answer, monkeypatch, tmp_path):
    """ffprobe said nothing usable: the headers answer, and for garbage there is no answer."""
    monkeypatch.setattr(durations, "ffprobe", lambda: "/usr/bin/ffprobe")
    calls = []

    def run(command, **kwargs):
        calls.append((command, kwargs))
        return subprocess.CompletedProcess(command, 0, stdout=answer, stderr=b"")

    monkeypatch.setattr(subprocess, "run", run)
    assert durations.read_duration(SAMPLE_MP4) == 30.0
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"garbage!" * 100)
    assert durations.read_duration(str(garbage)) is None
    command, options = calls[0]
    # No shell, a time limit, nothing from standard input, and the file named as a file.
    assert options.get("shell") is not True and options["timeout"] == durations.FFPROBE_TIMEOUT
    assert options["stdin"] == subprocess.DEVNULL
    assert command[-1] == "file:" + SAMPLE_MP4 and "-protocol_whitelist" in command
