"""Media in an S3 bucket, below the pages: the upload spool, `aura media migrate` both ways
(checked, resumable, refusing a damaged file) and backups that take the bucket's media and
restore it into the bucket, against moto's S3 server."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
import sqlalchemy as sa

from aura.extensions import db
from aura.models import Caption, Video
from aura.services import backups, captions, media, retention
from aura.services.storage import s3 as s3_storage
from tests.factories import PNG_BYTES, make_user, sample_bytes, store_video
from tests.fixtures.backups import read_manifest
from tests.fixtures.s3 import PART_SIZE, s3_settings, store_s3_video
from tests.fixtures.streaming import media_files

VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nMoved\n"


# -- the upload into the bucket ----------------------------------------------------------------


def test_an_upload_holds_at_most_a_part_in_memory_and_aborts_when_dropped(db, s3_media):
    upload = media.new_upload()
    assert isinstance(upload, s3_storage.S3Upload)
    content = os.urandom(3 * PART_SIZE + 123)
    for start in range(0, len(content), 8192):
        upload.write(content[start : start + 8192])
        assert len(upload._buffer) < PART_SIZE  # the rest has gone up as parts
    assert upload.multipart and s3_media.unfinished_uploads() == [upload.key]
    assert upload.sha256 == hashlib.sha256(content).hexdigest() and upload.size == len(content)
    upload.close()
    assert s3_media.unfinished_uploads() == [] and s3_media.names() == []


def test_a_kept_upload_is_one_object_and_reads_back_by_ranges(db, s3_media):
    content = os.urandom(2 * PART_SIZE + 7)
    upload = media.new_upload()
    upload.write(content)
    upload.keep()
    upload.close()
    assert s3_media.names() == [upload.key] and s3_media.get(upload.key) == content
    with media.current().open(upload.key) as fh:
        fh.seek(PART_SIZE - 3)
        assert fh.read(10) == content[PART_SIZE - 3 : PART_SIZE + 7]
        assert fh.seek(0, os.SEEK_END) == len(content)
        fh.seek(0)
        assert fh.read() == content


def test_purge_aborts_multipart_uploads_a_killed_process_left(db, s3_media):
    upload = media.new_upload()
    upload.write(os.urandom(PART_SIZE + 1))  # one part sent, then the process "dies"
    assert s3_media.unfinished_uploads() == [upload.key]
    # The test server dates every multipart upload in 2010: a day old, as `aura purge` wants.
    assert retention.purge().upload_files == 1
    assert s3_media.unfinished_uploads() == []
    upload._upload_id = None  # already aborted


# -- aura media migrate -------------------------------------------------------------------------


def local_library() -> dict:
    """A video with a thumbnail and a caption, and a second video, in the media folder."""
    first = store_video(title="First")
    thumbnail = media.new_key()
    with open(os.path.join(media.media_dir(), thumbnail), "wb") as fh:
        fh.write(PNG_BYTES)
    first.thumbnail_key, first.thumbnail_content_type = thumbnail, "image/png"
    db.session.commit()
    caption = captions.add_caption(first.id, VTT.encode(), "en")
    second = store_video(b"\x00\x00\x00\x20ftypisom" + b"second " * 20000, title="Second")
    return {"videos": [first, second], "thumbnail": thumbnail, "caption": caption}


def names_of(made: dict) -> list[str]:
    first, second = made["videos"]
    return sorted(
        [
            first.storage_key,
            second.storage_key,
            made["thumbnail"],
            f"captions/{made['caption'].storage_key}.vtt",
        ]
    )


def run_migrate(runner, to: str):
    return runner.invoke(args=["media", "migrate", "--to", to])


def test_migrate_to_s3_copies_checks_and_resumes(
    app, db, media_dir, s3_bucket, runner, monkeypatch
):
    made = local_library()
    for name, value in s3_settings(s3_bucket, MEDIA_STORAGE="local").items():
        monkeypatch.setitem(app.config, name, value)
    result = run_migrate(runner, "s3")
    assert result.exit_code == 0, result.output
    assert "4 copied" in result.output and "Set AURA_MEDIA_STORAGE=s3" in result.output
    assert s3_bucket.names() == names_of(made)
    for name in s3_bucket.names():
        with open(os.path.join(media_dir, *name.split("/")), "rb") as fh:
            assert s3_bucket.get(name) == fh.read()
    assert len(media_files(media_dir)) == 4  # the source is left as it was (and captions/)

    # Interrupted runs resume: what is there with the same sha256 is skipped.
    s3_bucket.client.delete_object(Bucket=s3_bucket.name, Key=made["thumbnail"])
    again = run_migrate(runner, "s3")
    assert again.exit_code == 0, again.output
    assert "1 copied" in again.output and "3 already there" in again.output

    # Switched over, the site serves from the bucket: the same rows, the same keys.
    monkeypatch.setitem(app.config, "MEDIA_STORAGE", "s3")
    shutil_rmtree(media_dir)
    first = made["videos"][0]
    client = app.test_client()
    assert client.get(f"/watch/{first.id}/thumbnail").data == PNG_BYTES
    assert client.get(f"/watch/{first.id}").status_code == 200
    assert client.get(f"/stream/{first.id}").status_code == 307


def shutil_rmtree(path: str) -> None:
    import shutil

    shutil.rmtree(path)
    os.makedirs(path)


def test_migrate_refuses_a_file_whose_sha256_is_not_the_recorded_one(
    app, db, media_dir, s3_bucket, runner, monkeypatch
):
    made = local_library()
    damaged = made["videos"][1]
    with open(os.path.join(media_dir, damaged.storage_key), "r+b") as fh:
        fh.seek(100)
        fh.write(b"bitrot")
    for name, value in s3_settings(s3_bucket, MEDIA_STORAGE="local").items():
        monkeypatch.setitem(app.config, name, value)
    result = run_migrate(runner, "s3")
    assert result.exit_code == 1
    assert f"Refused {damaged.storage_key}: its sha256 is" in result.output
    assert "3 copied" in result.output and "Fix those before" in result.output
    assert damaged.storage_key not in s3_bucket.names()


def test_migrate_to_local_copies_the_bucket_into_the_media_folder(
    app, db, media_dir, s3_media, runner
):
    video = store_s3_video(sample_bytes(), title="In the bucket")
    caption = captions.add_caption(video.id, VTT.encode(), "en")
    missing = store_s3_video(b"\x00\x00\x00\x20ftypisom" + b"gone" * 10, title="Gone")
    s3_media.client.delete_object(Bucket=s3_media.name, Key=missing.storage_key)
    assert media_files(media_dir) == []
    result = run_migrate(runner, "local")
    assert result.exit_code == 1  # one file the database names is not in the bucket
    assert f"Missing from s3: {missing.storage_key}" in result.output
    assert "2 copied" in result.output
    with open(os.path.join(media_dir, video.storage_key), "rb") as fh:
        assert fh.read() == sample_bytes()
    with open(os.path.join(media_dir, "captions", f"{caption.storage_key}.vtt")) as fh:
        assert fh.read() == VTT
    db.session.delete(db.session.get(Video, missing.id))
    db.session.commit()
    again = run_migrate(runner, "local")
    assert again.exit_code == 0 and "0 copied" in again.output and "2 already there" in again.output


def test_migrate_without_a_bucket_says_what_is_missing(app, db, media_dir, runner, monkeypatch):
    monkeypatch.setitem(app.config, "S3_BUCKET", None)
    result = run_migrate(runner, "s3")
    assert result.exit_code != 0 and "AURA_S3_BUCKET" in result.output


# -- backups --------------------------------------------------------------------------------------


@pytest.fixture
def s3_site(make_site, s3_bucket):
    made = make_site(**s3_settings(s3_bucket))
    with made.app.app_context():
        yield made, s3_bucket
        db.session.remove()


def bucket_state(bucket) -> dict[str, str]:
    return {name: hashlib.sha256(bucket.get(name)).hexdigest() for name in bucket.names()}


def test_backup_downloads_the_bucket_and_restore_puts_it_back(s3_site):
    site, bucket = s3_site
    make_user()
    first = store_s3_video(sample_bytes(), title="First")
    second = store_s3_video(b"\x00\x00\x00\x20ftypisom" + b"second " * 9000, title="Second")
    caption = captions.add_caption(first.id, VTT.encode(), "en")
    backed_up = bucket_state(bucket)

    result = backups.create(site.backups)
    manifest = read_manifest(result.path)
    in_backup = {
        entry["path"]: entry["sha256"]
        for entry in manifest["files"]
        if entry["path"].startswith("media/")
    }
    assert in_backup == {f"media/{name}": sha for name, sha in backed_up.items()}
    with open(os.path.join(result.path, "media", first.storage_key), "rb") as fh:
        assert fh.read() == sample_bytes()
    assert result.media_files_copied == 3
    assert backups.verify(result.path).ok
    assert media_files(site.media) == []  # nothing went through the media folder

    later = backups.create(site.backups)  # the same objects: linked, not downloaded again
    assert (later.media_files_copied, later.media_files_linked) == (0, 3)

    # The bucket drifts: an object lost, one rewritten, one the backup never knew.
    bucket.client.delete_object(Bucket=bucket.name, Key=first.storage_key)
    bucket.put(second.storage_key, b"\x00\x00\x00\x20ftypisom" + b"scribble" * 7875)
    bucket.put("c" * 32, b"not in the backup")
    db.session.delete(db.session.get(Caption, caption.id))
    db.session.commit()

    restored = backups.restore(result.path)
    assert restored.media_files == 3
    assert bucket_state(bucket) == backed_up
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Caption)) == 1
    assert site.leftovers() == []


def test_restore_of_a_local_backup_puts_its_media_into_the_bucket(make_site, s3_bucket):
    local = make_site()
    with local.app.app_context():
        make_user()
        video = store_video(sample_bytes(), title="Made on disk")
        result = backups.create(local.backups)
        key = video.storage_key
        db.session.remove()
    with open(os.path.join(result.path, "manifest.json")) as fh:
        assert any(entry["path"] == f"media/{key}" for entry in json.load(fh)["files"])

    remote = make_site(**s3_settings(s3_bucket))
    with remote.app.app_context():
        backups.restore(result.path)
        assert s3_bucket.names() == [key]
        assert s3_bucket.get(key) == sample_bytes()
        assert db.session.get(Video, video.id).storage_key == key
        db.session.remove()
