"""Upload rules: sniffing by content, the spool in the media folder, storage, durations, the
demo samples."""

from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from aura.errors import Invalid, NotFound
from aura.models import Video
from aura.services import durations, media, retention, samples, videos
from aura.services.storage.local import LocalStorage
from tests.factories import (
    M4V_HEAD,
    MKV_HEAD,
    MOV_CLASSIC_HEAD,
    MOV_HEAD,
    MP4_HEAD,
    OGG_HEAD,
    PNG_BYTES,
    WEBM_HEAD,
    make_movie,
    make_video_row,
    sample_bytes,
)
from tests.fixtures.streaming import media_files


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (MP4_HEAD, "video/mp4"),
        (M4V_HEAD, "video/mp4"),
        (MOV_HEAD, "video/quicktime"),
        (MOV_CLASSIC_HEAD, "video/quicktime"),
        (WEBM_HEAD, "video/webm"),
        (MKV_HEAD, "video/x-matroska"),
        (OGG_HEAD, "video/ogg"),
    ],
)
def test_videos_are_known_by_their_first_bytes(head, content_type):
    assert media.sniff_video(head) == content_type


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"<!DOCTYPE html><html>",
        b"<svg xmlns='http://www.w3.org/2000/svg'>",
        b"MZ\x90\x00",
        b"\x7fELF\x02\x01",
        b"\x00\x00\x00\x18ftypavif",
        b"\x00\x00\x00\x18ftypM4A ",
        b"\x00\x00\x00\x08ftyp",  # too short to have a brand
        PNG_BYTES,
    ],
)
def test_everything_else_is_not_a_video(head):
    assert media.sniff_video(head) is None


def test_pictures_for_thumbnails():
    assert media.sniff_image(PNG_BYTES) == "image/png"
    assert media.sniff_image(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert media.sniff_image(b"RIFF\x24\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert media.sniff_image(b"<svg onload=alert(1)>") is None
    assert media.sniff_image(b"GIF89a") is None


def test_spool_hashes_counts_and_removes_itself(tmp_path):
    spool = media.UploadSpool(str(tmp_path))
    assert os.path.basename(spool.path).startswith(".upload-")
    spool.write(b"abc")
    spool.write(b"def" * 300)
    assert spool.size == 903
    assert spool.head == (b"abc" + b"def" * 300)[: media.SNIFF_BYTES]
    import hashlib

    assert spool.sha256 == hashlib.sha256(b"abc" + b"def" * 300).hexdigest()
    spool.close()
    assert os.listdir(tmp_path) == []


def test_kept_spool_is_renamed_in_place(tmp_path):
    spool = media.UploadSpool(str(tmp_path))
    spool.write(b"video bytes")
    key = media.new_key()
    path = spool.keep(key)
    spool.close()
    assert os.listdir(tmp_path) == [key]
    with open(path, "rb") as fh:
        assert fh.read() == b"video bytes"


def spool_of(directory: str, content: bytes) -> media.UploadSpool:
    spool = media.UploadSpool(directory)
    spool.write(content)
    return spool


def test_create_video_stores_and_records(db, media_dir):
    movie = make_movie("Linked")
    spool = spool_of(media_dir, sample_bytes())
    video = videos.create_video(
        videos.VideoDetails(title="Service reel", movie=f"/movies/{movie.id}", password="pa55word"),
        spool,
        filename="C:\\Users\\me\\reel.mp4",
    )
    spool.close()
    assert video.movie_id == movie.id and video.original_filename == "reel.mp4"
    assert check_password_hash(video.password_hash, "pa55word")
    assert media_files(media_dir) == [video.storage_key]


def test_refused_upload_leaves_nothing(db, media_dir):
    spool = spool_of(media_dir, b"<html></html>")
    with pytest.raises(Invalid) as refused:
        videos.create_video(videos.VideoDetails(title=""), spool)
    spool.close()
    assert set(refused.value.fields) == {"title", "file"}
    assert refused.value.status == 422
    assert media_files(media_dir) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Video)) == 0


@pytest.mark.parametrize(
    ("reference", "found"),
    [("", None), ("  ", None), ("{id}", True), ("#{id}", True), ("x · #{id}", True)],
)
def test_film_references(db, reference, found):
    movie = make_movie("Referred")
    result = videos.find_movie(reference.format(id=movie.id))
    assert (result.id if result else None) == (movie.id if found else None)


@pytest.mark.parametrize(
    "reference", ["#0", "abc", "99999999", "/movies/abc", "'; DROP TABLE movie;--"]
)
def test_bad_film_references(db, reference):
    with pytest.raises(Invalid):
        videos.find_movie(reference)


def test_media_paths_only_for_aura_keys(app):
    with app.app_context():
        folder = LocalStorage(media.media_dir())
        for key in ("../etc/passwd", "", "ABCDEF", "a" * 31):
            with pytest.raises(NotFound):
                folder.path(key)
        assert folder.path("a" * 32).endswith("/" + "a" * 32)


def test_demo_samples_are_installed_once(db, media_dir):
    night = make_movie("Night of the Living Dead")
    casablanca = make_movie("Casablanca")
    said: list[str] = []
    added = samples.install_samples(said.append)
    assert [video.movie_id for video in added] == [night.id, casablanca.id]
    open_sample, locked_sample = added
    assert not open_sample.locked and locked_sample.locked
    password_lines = [line for line in said if "password" in line.lower()]
    assert len(password_lines) == 1
    password = password_lines[0].rsplit(" ", 1)[1]
    assert check_password_hash(locked_sample.password_hash, password)
    assert sorted(media_files(media_dir)) == sorted(v.storage_key for v in added)
    assert open_sample.content_type == "video/mp4" and open_sample.size == len(sample_bytes())

    said.clear()
    assert samples.install_samples(said.append) == []
    assert all("already present" in line for line in said)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Video)) == 2


def test_samples_without_their_films_are_unlinked(db, media_dir):
    added = samples.install_samples(lambda _line: None)
    assert [video.movie_id for video in added] == [None, None]


def test_purge_removes_only_abandoned_upload_files(media_dir):
    old = os.path.join(media_dir, ".upload-old.part")
    fresh = os.path.join(media_dir, ".upload-fresh.part")
    stored = os.path.join(media_dir, "a" * 32)
    for path in (old, fresh, stored):
        with open(path, "wb") as fh:
            fh.write(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(stored, (two_days_ago, two_days_ago))
    assert retention.purge_stale_uploads(media_dir) == 1
    assert sorted(os.listdir(media_dir)) == sorted([".upload-fresh.part", "a" * 32])


# -- durations stored with the video ------------------------------------------------------------


def test_an_upload_stores_its_duration(db, media_dir):
    spool = spool_of(media_dir, sample_bytes())
    video = videos.create_video(videos.VideoDetails(title="Timed"), spool)
    spool.close()
    assert video.duration_seconds == 30.0


def test_without_ffprobe_an_upload_still_gets_its_duration(db, media_dir, monkeypatch):
    monkeypatch.setattr(durations, "ffprobe", lambda: None)
    spool = spool_of(media_dir, sample_bytes())
    video = videos.create_video(videos.VideoDetails(title="Timed"), spool)
    spool.close()
    assert video.duration_seconds == 30.0


def test_an_unreadable_upload_stores_no_duration(db, media_dir):
    spool = spool_of(media_dir, WEBM_HEAD + bytes(64))  # a WebM by its first bytes only
    video = videos.create_video(videos.VideoDetails(title="Untimed"), spool)
    spool.close()
    assert video.content_type == "video/webm" and video.duration_seconds is None


def test_fill_durations_reads_the_missing_ones(db, media_dir, make_video):
    timed = make_video(title="Known", duration_seconds=12.0)
    missing = [make_video(title=f"Old {n}") for n in range(3)]
    broken = make_video(b"garbage!" * 20, title="Broken")
    no_file = make_video_row(title="Row without a file")
    report = videos.fill_durations(batch=2)
    assert (report.read, report.unreadable) == (3, 2)
    assert "3 read, 2 unreadable" in report.summary()
    stored = dict(db.session.execute(sa.select(Video.title, Video.duration_seconds)).all())
    assert stored["Known"] == 12.0 and timed.duration_seconds == 12.0
    assert all(stored[video.title] == 30.0 for video in missing)
    assert stored[broken.title] is None and stored[no_file.title] is None
