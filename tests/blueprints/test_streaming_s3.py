"""Media in an S3 bucket, through the site: uploads that stream into the bucket (and leave
nothing when refused or dropped), deletes, thumbnails and captions, and playback by a
presigned redirect or nginx's X-Accel-Redirect, all against a real S3-compatible server."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from aura.extensions import db as _db
from aura.models import AccessGrant, Caption, Video, View, utcnow
from aura.services import captions
from tests.blueprints.test_supervisor_videos import multipart_body, stored, upload
from tests.conftest import login_as
from tests.factories import PNG_BYTES, make_movie, make_supervisor, sample_bytes
from tests.fixtures.s3 import PART_SIZE, presigned_signature_ok
from tests.fixtures.streaming import media_files, open_player

VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello from the bucket\n"


@pytest.fixture
def boss(client, db):
    login_as(client, make_supervisor())
    return client


def stream(client, video, method="GET", **headers):
    return client.open(f"/stream/{video.id}", method=method, headers=headers)


# -- uploads -----------------------------------------------------------------------------------


def test_small_upload_goes_into_the_bucket_under_a_random_key(boss, db, s3_media, media_dir):
    content = sample_bytes()[: PART_SIZE // 2]  # one part's worth: a single PUT
    response = upload(boss, content, filename="../../etc/passwd.mp4")
    assert response.status_code == 303, response.text
    [video] = stored(db)
    assert s3_media.names() == [video.storage_key]
    assert s3_media.get(video.storage_key) == content
    assert video.original_filename == "passwd.mp4" and "passwd" not in video.storage_key
    assert media_files(media_dir) == []


def test_large_upload_goes_up_in_parts_and_reads_its_duration(boss, db, s3_media, media_dir):
    content = sample_bytes()  # five parts of the test server's 64 KiB
    assert len(content) > 4 * PART_SIZE
    response = upload(boss, content)
    assert response.status_code == 303, response.text
    [video] = stored(db)
    assert s3_media.get(video.storage_key) == content
    head = s3_media.client.head_object(Bucket=s3_media.name, Key=video.storage_key)
    assert head["ETag"].strip('"').endswith(f"-{-(-len(content) // PART_SIZE)}")  # multipart
    assert video.size == len(content) and video.duration_seconds == pytest.approx(30, abs=1)
    assert s3_media.unfinished_uploads() == [] and media_files(media_dir) == []


@pytest.mark.parametrize("size", [100, 3 * PART_SIZE])
def test_bad_content_leaves_no_object_and_no_row(boss, db, s3_media, media_dir, size):
    page = b"<!doctype html><script>alert(1)</script>"
    content = (page + b" " * size)[:size]
    response = upload(boss, content, filename="reel.mp4")
    assert response.status_code == 422
    assert "not a video" in response.text
    assert stored(db) == []
    assert s3_media.names() == [] and s3_media.unfinished_uploads() == []


def test_upload_over_the_limit_leaves_nothing(boss, app, db, s3_media, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    content = sample_bytes()[:64] + os.urandom(1024 * 1024 + 10)
    assert upload(boss, content).status_code == 413
    assert stored(db) == []
    assert s3_media.names() == [] and s3_media.unfinished_uploads() == []


def test_dropped_upload_aborts_the_multipart_upload(boss, db, s3_media):
    body, content_type = multipart_body(sample_bytes())
    cut = body[: len(body) // 2]  # past two parts, then the connection drops
    assert len(cut) > 2 * PART_SIZE
    response = boss.post(
        "/supervisor/videos/new",
        input_stream=io.BytesIO(cut),
        content_type=content_type,
        content_length=len(body),
    )
    assert response.status_code in (400, 422)
    assert stored(db) == []
    assert s3_media.names() == [] and s3_media.unfinished_uploads() == []


@pytest.mark.server_error
def test_failure_while_recording_removes_the_object(boss, db, s3_media, monkeypatch):
    from aura.services import videos

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(videos.audit, "record", broken)
    assert upload(boss, sample_bytes()).status_code == 500
    assert stored(db) == [] and s3_media.names() == []


def test_delete_removes_the_objects(boss, db, s3_media):
    assert upload(boss, sample_bytes()).status_code == 303
    [video] = stored(db)
    captions.add_caption(video.id, VTT, "en")
    assert len(s3_media.names()) == 2
    assert boss.post(f"/supervisor/videos/{video.id}/delete").status_code == 303
    assert stored(db) == [] and s3_media.names() == []


def test_thumbnails_and_captions_live_in_the_bucket(boss, client, db, s3_media, media_dir):
    assert upload(boss, sample_bytes()).status_code == 303
    [video] = stored(db)
    response = boss.post(
        f"/supervisor/videos/{video.id}/edit",
        data={
            "title": video.title,
            "description": "",
            "movie": "",
            "password": "",
            "thumbnail": (io.BytesIO(PNG_BYTES), "cover.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.text
    [video] = stored(db)
    assert s3_media.get(video.thumbnail_key) == PNG_BYTES
    thumbnail = client.get(f"/watch/{video.id}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.data == PNG_BYTES
    assert thumbnail.headers["Content-Type"] == "image/png"
    again = client.get(
        f"/watch/{video.id}/thumbnail", headers={"If-None-Match": thumbnail.headers["ETag"]}
    )
    assert again.status_code == 304

    caption = captions.add_caption(video.id, VTT, "en")
    assert s3_media.get(f"captions/{caption.storage_key}.vtt") == VTT
    url = f"/watch/{video.id}/captions/{caption.id}.vtt"
    assert client.get(url).status_code == 403  # no grant yet
    open_player(client, video)
    served = client.get(url)
    assert served.status_code == 200 and served.data == VTT
    assert served.headers["Content-Type"].startswith("text/vtt")
    assert media_files(media_dir) == []

    assert boss.post(f"/supervisor/videos/{video.id}/captions/{caption.id}/delete").status_code
    assert f"captions/{caption.storage_key}.vtt" not in s3_media.names()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Caption)) == 0


def test_a_missing_object_is_a_404_not_an_error(client, db, make_s3_video, s3_media):
    video = make_s3_video(thumbnail_key="b" * 32, thumbnail_content_type="image/png")
    assert client.get(f"/watch/{video.id}/thumbnail").status_code == 404


# -- playback: a presigned redirect ------------------------------------------------------------


def test_stream_redirects_to_a_presigned_url_that_serves_ranges(client, db, make_s3_video):
    content = sample_bytes()
    video = make_s3_video(content)
    open_player(client, video)
    response = stream(client, video, Range="bytes=1000-1999")
    assert response.status_code == 307
    assert response.headers["Cache-Control"] == "private, no-store"
    location = response.headers["Location"]
    assert urlsplit(location).path.endswith(f"/{video.storage_key}")
    fetched = requests.get(location, headers={"Range": "bytes=1000-1999"}, timeout=10)
    assert fetched.status_code == 206
    assert fetched.content == content[1000:2000]
    assert fetched.headers["Content-Range"] == f"bytes 1000-1999/{len(content)}"
    assert fetched.headers["Content-Type"] == "video/mp4"
    seek = requests.get(location, headers={"Range": f"bytes={len(content) - 10}-"}, timeout=10)
    assert seek.status_code == 206 and seek.content == content[-10:]


def test_a_head_is_sent_to_a_url_signed_for_a_head(client, db, make_s3_video, s3_media):
    # S3 signs the method: a HEAD of a URL signed for GET is refused (SignatureDoesNotMatch).
    video = make_s3_video()
    open_player(client, video)
    host = urlsplit(s3_media.endpoint).netloc
    for method in ("GET", "HEAD"):
        location = urlsplit(stream(client, video, method=method).headers["Location"])
        target = f"{location.path}?{location.query}"
        assert presigned_signature_ok(method, host, target), method
        other = "HEAD" if method == "GET" else "GET"
        assert not presigned_signature_ok(other, host, target), method
        answer = requests.request(method, location.geturl(), timeout=10)
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "video/mp4"


def test_presigned_url_opens_only_that_object(client, db, make_s3_video):
    video, other = make_s3_video(), make_s3_video(b"\x00\x00\x00\x20ftypisom" + b"x" * 100)
    open_player(client, video)
    location = urlsplit(stream(client, video).headers["Location"])
    # Signed for GET of this one key (the test server does not check signatures itself).
    assert location.path == f"/{s3_bucket_of(client)}/{video.storage_key}"
    query = parse_qs(location.query)
    assert query["X-Amz-SignedHeaders"] == ["host"] and "X-Amz-Signature" in query
    assert stream(client, other).status_code == 403  # no grant for the other video
    assert "Location" not in stream(client, other).headers


def test_presigned_lifetime_is_bounded_by_the_grant(client, app, db, make_s3_video):
    video = make_s3_video()
    open_player(client, video)
    first = stream(client, video).headers["Location"]
    assert parse_qs(urlsplit(first).query)["X-Amz-Expires"] == ["300"]  # AURA_S3_URL_TTL

    grant = db.session.scalar(sa.select(AccessGrant).where(AccessGrant.video_id == video.id))
    soon = utcnow() + timedelta(seconds=40)
    # The grant ends in 40 s and cannot be extended any more (its twelve hours are over).
    db.session.execute(
        sa.update(AccessGrant)
        .where(AccessGrant.id == grant.id)
        .values(expires_at=soon, created_at=soon - timedelta(hours=12), last_used_at=None)
    )
    db.session.commit()
    late = stream(client, video).headers["Location"]
    assert 1 <= int(parse_qs(urlsplit(late).query)["X-Amz-Expires"][0]) <= 40


def test_a_redirect_counts_one_play_per_grant(client, db, make_s3_video):
    movie = make_movie()
    video = make_s3_video(movie_id=movie.id)
    open_player(client, video)
    for header in ("bytes=0-1", "bytes=0-", "bytes=5000-"):
        assert stream(client, video, Range=header).status_code == 307
    assert stream(client, video, method="HEAD").status_code == 307
    db.session.expire_all()
    assert db.session.get(Video, video.id).view_count == 1
    plays = db.session.scalars(sa.select(View).where(View.kind == "play")).all()
    assert [view.movie_id for view in plays] == [movie.id]


def test_no_redirect_without_a_grant(app, db, make_s3_video):
    video = make_s3_video()
    response = stream(app.test_client(), video)
    assert response.status_code == 403
    assert "Location" not in response.headers


def test_csp_allows_the_bucket_for_media_only_when_it_is_used(
    client, app, db, s3_media, monkeypatch
):
    page = client.get("/")
    media_src = next(
        part
        for part in page.headers["Content-Security-Policy"].split("; ")
        if part.startswith("media-src")
    )
    assert media_src == f"media-src 'self' blob: {s3_media.endpoint}"
    assert s3_media.endpoint not in page.headers["Content-Security-Policy"].replace(media_src, "")
    monkeypatch.setitem(app.config, "STREAM_OFFLOAD", "x-accel")  # nginx proxies: same origin
    assert s3_media.endpoint not in client.get("/").headers["Content-Security-Policy"]
    monkeypatch.setitem(app.config, "STREAM_OFFLOAD", "none")
    monkeypatch.setitem(app.config, "MEDIA_STORAGE", "local")
    assert "media-src 'self' blob:;" in client.get("/").headers["Content-Security-Policy"]


# -- playback: through nginx -------------------------------------------------------------------


def test_x_accel_hands_nginx_the_presigned_request(client, app, db, make_s3_video, monkeypatch):
    monkeypatch.setitem(app.config, "STREAM_OFFLOAD", "x-accel")
    content = sample_bytes()
    video = make_s3_video(content)
    open_player(client, video)
    response = stream(client, video, Range="bytes=0-1")
    assert response.status_code == 200 and response.data == b""
    assert response.headers["Content-Type"] == "video/mp4"
    accel = response.headers["X-Accel-Redirect"]
    assert accel.startswith(f"/_s3_media/{s3_media_name(app)}/{video.storage_key}?")
    assert "X-Amz-Signature=" in accel and "Location" not in response.headers
    # What nginx's proxy_pass asks the bucket for: the same path and query on the endpoint.
    upstream = app.config["S3_ENDPOINT"] + accel[len("/_s3_media") :]
    fetched = requests.get(upstream, headers={"Range": "bytes=10-19"}, timeout=10)
    assert fetched.status_code == 206 and fetched.content == content[10:20]
    assert stream(app.test_client(), video).status_code == 403


def s3_media_name(app) -> str:
    return app.config["S3_BUCKET"]


def s3_bucket_of(client) -> str:
    return client.application.config["S3_BUCKET"]
