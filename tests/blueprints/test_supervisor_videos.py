"""The supervisor's video pages: who may use them, uploads good and bad, edits, deletion."""

from __future__ import annotations

import hashlib
import io
import os
import re

import pytest
import sqlalchemy as sa

from aura.models import AccessGrant, AuditEvent, Video
from tests.conftest import login_as
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
    make_supervisor,
    make_user,
    sample_bytes,
)
from tests.fixtures.streaming import media_files, open_player


@pytest.fixture
def supervisor(db):
    return make_supervisor()


@pytest.fixture
def boss(client, supervisor):
    """``client`` signed in as a supervisor."""
    login_as(client, supervisor)
    return client


def upload(client, content: bytes | None = None, filename="reel.mp4", headers=None, **fields):
    data = {"title": "A new reel", "description": "", "movie": "", "password": ""}
    data.update(fields)
    if content is not None:
        data["file"] = (io.BytesIO(content), filename, "video/mp4")
    return client.post(
        "/supervisor/videos/new",
        data=data,
        content_type="multipart/form-data",
        headers=headers or {},
    )


def stored(db) -> list[Video]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Video)))


# -- access ------------------------------------------------------------------------------------

PAGES = [
    ("GET", "/supervisor/videos"),
    ("GET", "/supervisor/videos/new"),
    ("POST", "/supervisor/videos/new"),
    ("GET", "/supervisor/videos/films?q=x"),
    ("GET", "/supervisor/videos/{id}/edit"),
    ("POST", "/supervisor/videos/{id}/edit"),
    ("POST", "/supervisor/videos/{id}/delete"),
]


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, video, method, path):
    response = client.open(path.format(id=video.id), method=method)
    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith("/auth/login?next=")


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_viewers_are_refused(client, db, video, method, path):
    login_as(client, make_user())
    response = client.open(path.format(id=video.id), method=method)
    assert response.status_code == 403
    assert len(stored(db)) == 1


def test_viewer_upload_is_refused_and_leaves_nothing(client, db, media_dir):
    login_as(client, make_user())
    response = upload(client, sample_bytes())
    assert response.status_code == 403
    assert stored(db) == [] and media_files(media_dir) == []


def test_the_supervisor_link_only_for_supervisors(client, boss, db):
    assert re.search(r'href="/supervisor/[a-z]*"[^>]*>Supervisor<', boss.get("/").text)
    assert 'href="/supervisor/videos"' in boss.get("/supervisor/movies").text
    viewer = client.application.test_client()
    login_as(viewer, make_user())
    assert 'href="/supervisor/' not in viewer.get("/").text


# -- uploading ---------------------------------------------------------------------------------


def test_upload_stores_the_file_under_a_random_name(boss, db, media_dir):
    movie = make_movie("Night of the Living Dead")
    content = sample_bytes()
    response = upload(
        boss,
        content,
        filename="My Holiday Film.mp4",
        title="  Holiday   reel ",
        description="Line one\nLine two",
        movie=f"#{movie.id}",
        password="let me in",
    )
    assert response.status_code == 303, response.text
    assert response.headers["Location"] == "/supervisor/videos"
    [video] = stored(db)
    assert video.title == "Holiday reel"
    assert video.description == "Line one\nLine two"
    assert video.movie_id == movie.id
    assert video.size == len(content)
    assert video.sha256 == hashlib.sha256(content).hexdigest()
    assert video.content_type == "video/mp4"
    assert video.original_filename == "My Holiday Film.mp4"
    assert video.locked and "let me in" not in video.password_hash
    assert re.fullmatch(r"[0-9a-f]{32}", video.storage_key)
    assert media_files(media_dir) == [video.storage_key]
    with open(os.path.join(media_dir, video.storage_key), "rb") as fh:
        assert fh.read() == content
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "video.upload"))
    assert audit is not None and audit.target == f"video:{video.id}"
    listing = boss.get("/supervisor/videos")
    assert "Holiday reel" in listing.text and "Uploaded" in listing.text


def test_upload_with_htmx_redirects_the_page(boss, db, media_dir):
    response = upload(boss, sample_bytes(), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/supervisor/videos"
    assert len(stored(db)) == 1


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (M4V_HEAD, "video/mp4"),
        (MOV_HEAD, "video/quicktime"),
        (MOV_CLASSIC_HEAD, "video/quicktime"),
        (WEBM_HEAD, "video/webm"),
        (MKV_HEAD, "video/x-matroska"),
        (OGG_HEAD, "video/ogg"),
    ],
)
def test_every_served_container_is_accepted(boss, db, media_dir, head, content_type):
    payload = os.urandom(4096)
    if head[4:8] == b"ftyp":  # ISO base media: the picture and sound sit in a box of their own
        payload = (8 + len(payload)).to_bytes(4, "big") + b"mdat" + payload
    response = upload(boss, head + payload, filename="clip.bin")
    assert response.status_code == 303, response.text
    assert stored(db)[0].content_type == content_type


REFUSED = {
    "html": b"<!doctype html><html><script>alert(1)</script></html>",
    "html behind an mp4 header": MP4_HEAD + b"<html><script>alert(1)</script></html>",
    "html inside an mp4 box": MP4_HEAD
    + b"\x00\x00\x01\x00free"
    + b"<!DOCTYPE html><body onload=alert(1)>".ljust(248, b" "),
    "mp4 header and noise": MP4_HEAD + os.urandom(2000),
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "windows executable": b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(2000),
    "linux executable": b"\x7fELF\x02\x01\x01" + os.urandom(2000),
    "zip": b"PK\x03\x04" + os.urandom(100),
    "heic picture": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    "m4a audio": b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A mp42",
    "text": b"just some words that are not a video",
}


@pytest.mark.parametrize("kind", REFUSED)
def test_files_that_are_not_videos_are_refused(boss, db, media_dir, kind):
    response = upload(boss, REFUSED[kind], filename="innocent.mp4")
    assert response.status_code == 422
    assert "not a video Aura can serve" in response.text
    assert stored(db) == []
    assert media_files(media_dir) == []


def test_empty_file_is_refused(boss, db, media_dir):
    response = upload(boss, b"", filename="empty.mp4")
    assert response.status_code == 422
    assert "That file is empty" in response.text
    assert stored(db) == [] and media_files(media_dir) == []


def test_missing_file_and_title_are_explained(boss, db, media_dir):
    response = upload(boss, None, title="")
    assert response.status_code == 422
    assert "Choose a video file to upload" in response.text
    assert "Give the video a title" in response.text
    assert 'aria-invalid="true"' in response.text


def test_validation_errors_with_htmx_return_the_form_only(boss, db, media_dir):
    response = upload(boss, b"<html>", headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "<html" not in response.text.lower().replace("&lt;html", "")
    assert 'id="video-form"' in response.text
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("reference", "message"),
    [("#999999", "There is no film number 999999"), ("the one with the shark", "Choose a film")],
)
def test_unknown_film_is_explained(boss, db, media_dir, reference, message):
    response = upload(boss, sample_bytes(), movie=reference)
    assert response.status_code == 422
    assert message in response.text
    assert stored(db) == [] and media_files(media_dir) == []


def test_film_can_be_given_by_its_address_or_suggestion(boss, db, media_dir):
    movie = make_movie("Casablanca")
    upload(boss, sample_bytes(), movie=f"http://aura.example/movies/{movie.id}")
    upload(boss, sample_bytes(), movie=f"Casablanca (2000) · #{movie.id}")
    assert [video.movie_id for video in stored(db)] == [movie.id, movie.id]


def test_short_password_is_refused(boss, db, media_dir):
    response = upload(boss, sample_bytes(), password="abc")
    assert response.status_code == 422
    assert "6 to 200 characters" in response.text


@pytest.mark.parametrize(
    "filename",
    [
        "../../../../etc/passwd.mp4",
        "..\\..\\windows\\system32\\evil.mp4",
        "<img src=x onerror=alert(1)>.mp4",
        "nul\x00byte.mp4",
        "\u202etxt.mp4",
        "x" * 1000 + ".mp4",
    ],
)
def test_hostile_file_names_never_touch_the_filesystem(boss, db, media_dir, filename):
    response = upload(boss, sample_bytes(), filename=filename, title="Named")
    assert response.status_code == 303
    [video] = stored(db)
    assert media_files(media_dir) == [video.storage_key]
    assert "/" not in (video.original_filename or "") and "\\" not in (
        video.original_filename or ""
    )
    assert "\x00" not in (video.original_filename or "")
    assert len(video.original_filename or "") <= 255
    listing = boss.get("/supervisor/videos").text
    assert "<img src=x" not in listing


def test_titles_are_inert_on_every_page(boss, client, db, media_dir):
    title = '<script>alert(1)</script><b hx-get="/x">bold</b>'
    upload(boss, sample_bytes(), title=title)
    [video] = stored(db)
    for page in (
        boss.get("/supervisor/videos"),
        boss.get(f"/supervisor/videos/{video.id}/edit"),
        boss.get(f"/watch/{video.id}"),
    ):
        assert "<script>alert(1)" not in page.text
        assert 'hx-get="/x"' not in page.text


def test_upload_over_the_limit_is_413_with_a_clear_page(boss, app, db, media_dir, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024 + 64 * 1024)
    response = upload(boss, sample_bytes() * 4)  # about 1.3 MB
    assert response.status_code == 413
    assert "<html" in response.text
    assert "at most 1 MB" in response.text
    assert stored(db) == [] and media_files(media_dir) == []


def test_file_just_over_the_limit_is_413_on_the_form(boss, app, db, media_dir, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    content = sample_bytes()[:64] + os.urandom(1024 * 1024 + 10)
    response = upload(boss, content)
    assert response.status_code == 413
    assert "videos can be at most 1 MB" in response.text
    assert 'id="video-form"' in response.text
    assert stored(db) == [] and media_files(media_dir) == []


def test_upload_limit_of_waitress_matches_the_app(app):
    """`aura serve` and the test server give waitress the same body limit the app enforces."""
    from tests.e2e.conftest import LiveServer

    server = LiveServer(app)
    try:
        assert server.server.adj.max_request_body_size == app.config["MAX_CONTENT_LENGTH"]
    finally:
        server.server.close()


def test_interrupted_upload_leaves_no_file_and_no_row(boss, app, db, media_dir):
    body, content_type = multipart_body(sample_bytes())
    cut = body[: len(body) // 2]  # the connection drops half-way
    response = boss.post(
        "/supervisor/videos/new",
        input_stream=io.BytesIO(cut),
        content_type=content_type,
        content_length=len(body),
    )
    assert response.status_code in (400, 422)
    assert stored(db) == [] and media_files(media_dir) == []


@pytest.mark.server_error
def test_failure_while_recording_removes_the_stored_file(boss, db, media_dir, monkeypatch):
    from aura.services import videos

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(videos.audit, "record", broken)
    response = upload(boss, sample_bytes())
    assert response.status_code == 500
    assert stored(db) == [] and media_files(media_dir) == []


def multipart_body(content: bytes) -> tuple[bytes, str]:
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(
        method="POST",
        data={"title": "Cut short", "file": (io.BytesIO(content), "cut.mp4", "video/mp4")},
    )
    environ = builder.get_environ()
    return environ["wsgi.input"].read(), environ["CONTENT_TYPE"]


def test_new_form_prefills_the_film(boss, db):
    movie = make_movie("Prefilled")
    page = boss.get(f"/supervisor/videos/new?movie={movie.id}")
    assert f"Prefilled (2000) · #{movie.id}" in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert "<progress" in page.text


def test_film_suggestions(boss, db, hx):
    movie = make_movie("The Suggestible Film")
    fragment = boss.get("/supervisor/videos/films?movie=suggestible", headers=hx)
    assert f'value="The Suggestible Film (2000) · #{movie.id}"' in fragment.text
    assert "<html" not in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]
    page = boss.get("/supervisor/videos/films?q=suggestible")
    assert "<html" in page.text and f"#{movie.id}" in page.text


# -- editing -----------------------------------------------------------------------------------


def edit(client, video, headers=None, **fields):
    data = {"title": video.title, "description": "", "movie": "", "password": ""}
    data.update(fields)
    return client.post(
        f"/supervisor/videos/{video.id}/edit",
        data=data,
        content_type="multipart/form-data",
        headers=headers or {},
    )


def test_edit_changes_text_film_and_thumbnail(boss, db, video, media_dir):
    movie = make_movie("Linked Later")
    page = boss.get(f"/supervisor/videos/{video.id}/edit")
    assert video.title in page.text
    response = edit(
        boss,
        video,
        title="Renamed",
        description="Now described",
        movie=str(movie.id),
        thumbnail=(io.BytesIO(PNG_BYTES), "cover.png", "image/png"),
    )
    assert response.status_code == 303, response.text
    [changed] = stored(db)
    assert (changed.title, changed.description, changed.movie_id) == (
        "Renamed",
        "Now described",
        movie.id,
    )
    assert changed.thumbnail_content_type == "image/png"
    assert sorted(media_files(media_dir)) == sorted([changed.storage_key, changed.thumbnail_key])
    thumbnail = boss.get(f"/watch/{video.id}/thumbnail")
    assert thumbnail.data == PNG_BYTES

    response = edit(boss, changed, remove_thumbnail="y")
    assert response.status_code == 303
    assert stored(db)[0].thumbnail_key is None
    assert media_files(media_dir) == [changed.storage_key]


def test_svg_thumbnail_is_refused(boss, db, video, media_dir):
    response = edit(
        boss, video, thumbnail=(io.BytesIO(b"<svg onload=alert(1)></svg>"), "x.png", "image/png")
    )
    assert response.status_code == 422
    assert "PNG, JPEG or WebP" in response.text
    assert media_files(media_dir) == [video.storage_key]


def test_setting_and_removing_a_password(boss, client, db, video):
    viewer = client.application.test_client()
    open_player(viewer, video)
    assert edit(boss, video, password="new secret").status_code == 303
    assert stored(db)[0].locked
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessGrant)) == 0
    assert 'name="password"' in viewer.get(f"/watch/{video.id}").text

    assert edit(boss, video, remove_password="y").status_code == 303
    assert not stored(db)[0].locked
    assert "<video" in viewer.get(f"/watch/{video.id}").text


def test_empty_password_keeps_the_current_one(boss, db, locked_video):
    edit(boss, locked_video, title="Still locked")
    assert stored(db)[0].locked


def test_edit_errors_rerender_the_form(boss, db, video):
    response = edit(boss, video, title="", headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "Give the video a title" in response.text
    assert "<html" not in response.text


def test_edit_unknown_video_is_404(boss, db):
    assert (
        boss.get("/supervisor/videos/00000000-0000-0000-0000-000000000000/edit").status_code == 404
    )


# -- deleting ----------------------------------------------------------------------------------


def test_delete_removes_row_file_and_grants(boss, client, db, video, media_dir):
    open_player(client.application.test_client(), video)
    response = boss.post(f"/supervisor/videos/{video.id}/delete")
    assert response.status_code == 303
    assert response.headers["Location"] == "/supervisor/videos"
    assert stored(db) == []
    assert media_files(media_dir) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessGrant)) == 0
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "video.delete"))
    assert audit is not None


def test_delete_from_the_list_swaps_the_row_away(boss, db, video, hx):
    response = boss.post(f"/supervisor/videos/{video.id}/delete", headers=hx)
    assert response.status_code == 200
    assert response.data == b""
    assert stored(db) == []


def test_delete_needs_csrf(boss, db, video):
    response = boss.post(f"/supervisor/videos/{video.id}/delete", csrf=False)
    assert response.status_code == 400
    assert len(stored(db)) == 1


def test_list_shows_the_videos(boss, db, make_video):
    movie = make_movie("Listed Film")
    make_video(title="First listed", movie=movie)
    make_video(title="Second listed", password="secret words")
    page = boss.get("/supervisor/videos")
    assert "First listed" in page.text and "Second listed" in page.text
    assert "Listed Film" in page.text
    assert 'hx-confirm="Delete' in page.text
