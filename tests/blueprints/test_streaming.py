"""The player page, the range streamer behind its grant, and play counting."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from aura.extensions import db as _db
from aura.models import AccessGrant, Video, View, utcnow
from tests.conftest import login_as
from tests.factories import PNG_BYTES, make_movie, make_supervisor, make_user, sample_bytes
from tests.fixtures.streaming import open_player


def grants_in(client) -> dict:
    with client.session_transaction() as session:
        return dict(session.get("grants") or [])


def put_grants(client, grants: dict) -> None:
    with client.session_transaction() as session:
        session["grants"] = [[key, value] for key, value in grants.items()]


def stream(client, video, method="GET", **headers):
    return client.open(f"/stream/{video.id}", method=method, headers=headers)


# -- the player page ---------------------------------------------------------------------------


def test_player_page_plays_the_stream_url(client, video):
    response = open_player(client, video)
    assert "<html" in response.text
    assert f'src="/stream/{video.id}"' in response.text
    assert "<video" in response.text


def test_the_grant_is_in_the_session_never_in_the_page(client, video):
    response = open_player(client, video)
    token = grants_in(client)[str(video.id)]
    assert len(token) >= 43  # 256 bits, URL-safe base64
    assert token not in response.text
    assert token not in response.headers.get("Location", "")


def test_only_the_token_hash_is_stored(client, video, db):
    open_player(client, video)
    token = grants_in(client)[str(video.id)]
    grant = db.session.scalar(sa.select(AccessGrant))
    assert grant.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (grant.token_hash, grant.session_id)
    ttl = grant.expires_at - grant.created_at
    assert ttl == timedelta(seconds=3600)


def test_unknown_video_is_404(client, db):
    assert client.get("/watch/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/watch/not-a-uuid").status_code == 404


def test_film_page_offers_play(client, db, make_video):
    movie = make_movie("Night of the Living Dead")
    video = make_video(movie=movie)
    page = client.get(f"/movies/{movie.id}")
    assert f'href="/watch/{video.id}"' in page.text
    assert "Play" in page.text


def test_film_page_without_video_has_no_play(client, db):
    movie = make_movie("Silent Film")
    assert "/watch/" not in client.get(f"/movies/{movie.id}").text


def test_locked_video_shows_password_on_the_film_page(client, db, make_video):
    movie = make_movie("Casablanca")
    make_video(movie=movie, password="open sesame 7")
    assert "Password" in client.get(f"/movies/{movie.id}").text


def test_video_of_a_hidden_film_is_hidden_from_viewers(client, db, make_video):
    movie = make_movie("Withdrawn", hidden=True)
    video = make_video(movie=movie)
    assert client.get(f"/watch/{video.id}").status_code == 404
    login_as(client, make_supervisor())
    open_player(client, video)
    assert stream(client, video).status_code == 200


# -- the streamer ------------------------------------------------------------------------------


def test_whole_file_with_ranges_advertised(client, video):
    open_player(client, video)
    response = stream(client, video)
    data = sample_bytes()
    assert response.status_code == 200
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Content-Length"] == str(len(data))
    assert response.data == data
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_safari_probe_and_chrome_open_range(client, video):
    data = sample_bytes()
    open_player(client, video)
    probe = stream(client, video, Range="bytes=0-1")
    assert probe.status_code == 206
    assert probe.headers["Content-Range"] == f"bytes 0-1/{len(data)}"
    assert probe.headers["Content-Length"] == "2"
    assert probe.data == data[:2]
    chrome = stream(client, video, Range="bytes=0-")
    assert chrome.status_code == 206
    assert chrome.headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    assert chrome.data == data


def test_seeking_returns_exactly_the_asked_bytes(client, video):
    data = sample_bytes()
    open_player(client, video)
    middle = len(data) // 2
    response = stream(client, video, Range=f"bytes={middle}-")
    assert response.status_code == 206
    assert response.headers["Content-Length"] == str(len(data) - middle)
    assert response.data == data[middle:]
    suffix = stream(client, video, Range="bytes=-500")
    assert suffix.headers["Content-Range"] == f"bytes {len(data) - 500}-{len(data) - 1}/{len(data)}"
    assert suffix.data == data[-500:]


def test_ranges_put_together_hash_like_the_file(client, video):
    data = sample_bytes()
    open_player(client, video)
    pieces, start, step = [], 0, 100_000
    while start < len(data):
        response = stream(client, video, Range=f"bytes={start}-{start + step - 1}")
        assert response.status_code == 206
        pieces.append(response.data)
        start += step
    assert hashlib.sha256(b"".join(pieces)).hexdigest() == video.sha256


def test_head_has_the_headers_and_no_body(client, video):
    open_player(client, video)
    response = stream(client, video, method="HEAD")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(video.size)
    assert response.data == b""
    ranged = stream(client, video, method="HEAD", Range="bytes=0-1")
    assert ranged.status_code == 206
    assert ranged.headers["Content-Length"] == "2"


@pytest.mark.parametrize(
    "header",
    ["bytes=99999999-", "bytes=-0", "bytes=5-1", "bytes=abc", "items=0-1", "bytes=\u0660-\u0661"],
)
def test_bad_ranges_are_416_with_the_size(client, video, header):
    open_player(client, video)
    response = stream(client, video, Range=header)
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{video.size}"
    assert response.data == b""


def test_several_ranges_get_the_file_once(client, video):
    open_player(client, video)
    response = stream(client, video, Range="bytes=0-0," + ",".join(["0-"] * 50))
    assert response.status_code == 200
    assert len(response.data) == video.size


def test_etag_and_last_modified_give_304(client, video):
    open_player(client, video)
    first = stream(client, video, Range="bytes=0-1")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert stream(client, video, If_None_Match=etag).status_code == 304
    assert stream(client, video, If_Modified_Since=modified).status_code == 304


def test_stale_if_range_gets_the_whole_file(client, video):
    open_player(client, video)
    etag = stream(client, video, method="HEAD").headers["ETag"]
    fresh = stream(client, video, Range="bytes=10-19", If_Range=etag)
    assert fresh.status_code == 206 and fresh.data == sample_bytes()[10:20]
    stale = stream(client, video, Range="bytes=10-19", If_Range='"an-older-version"')
    assert stale.status_code == 200 and len(stale.data) == video.size


def test_missing_file_is_404_not_500(client, video, media_dir):
    open_player(client, video)
    import os

    os.unlink(os.path.join(media_dir, video.storage_key))
    assert stream(client, video).status_code == 404


# -- who may stream ----------------------------------------------------------------------------


def assert_refused(response):
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert b"ftyp" not in response.data  # not a byte of video


def test_no_grant_is_403(client, video):
    assert_refused(stream(client, video))
    assert_refused(stream(client, video, Range="bytes=0-1"))
    assert stream(client, video, method="HEAD").status_code == 403


def test_expired_grant_is_403(client, video, db):
    open_player(client, video)
    db.session.execute(sa.update(AccessGrant).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert_refused(stream(client, video))


def test_forged_token_is_403(client, video):
    open_player(client, video)
    put_grants(client, {str(video.id): "A" * 43})
    assert_refused(stream(client, video))
    put_grants(client, {str(video.id): ["not", "a", "token"]})
    assert_refused(stream(client, video))


def test_a_grant_for_another_video_is_403(client, make_video):
    first = make_video(title="First")
    second = make_video(title="Second")
    open_player(client, first)
    token = grants_in(client)[str(first.id)]
    put_grants(client, {str(second.id): token})
    assert_refused(stream(client, second))


def test_a_grant_copied_into_another_browser_is_403(client, app, video):
    open_player(client, video)
    token = grants_in(client)[str(video.id)]
    other = app.test_client()
    open_player(other, video)  # the other browser has a session, and a grant of its own
    put_grants(other, {str(video.id): token})
    assert_refused(stream(other, video))


def test_a_grant_after_the_password_changed_is_403(client, db, make_video, app):
    supervisor = make_supervisor()
    video = make_video(password="first password")
    client.post(f"/watch/{video.id}/unlock", data={"password": "first password"})
    assert stream(client, video, Range="bytes=0-1").status_code == 206

    boss = app.test_client()
    login_as(boss, supervisor)
    response = boss.post(
        f"/supervisor/videos/{video.id}/edit",
        data={"title": video.title, "password": "second password"},
    )
    assert response.status_code == 303
    assert_refused(stream(client, video, Range="bytes=0-1"))


def test_a_grant_after_sign_out_is_403(client, auth, video, user):
    auth.login(user.email)
    open_player(client, video)
    assert stream(client, video, Range="bytes=0-1").status_code == 206
    with client.session_transaction() as session:
        old_cookie_session = dict(session)
    auth.logout()
    assert_refused(stream(client, video, Range="bytes=0-1"))
    # A copy of the cookie taken before signing out opens nothing either.
    with client.session_transaction() as session:
        session.update(old_cookie_session)
    assert_refused(stream(client, video, Range="bytes=0-1"))


def test_a_signed_in_grant_does_not_serve_someone_else(client, app, video, db):
    login_as(client, make_user())
    open_player(client, video)
    with client.session_transaction() as session:
        session["_user_id"] = make_user().get_id()
    assert_refused(stream(client, video))


def test_the_stream_url_alone_opens_nothing(app, client, video):
    open_player(client, video)
    assert stream(client, video).status_code == 200
    stranger = app.test_client()
    assert_refused(stream(stranger, video))


# -- counting plays ----------------------------------------------------------------------------


def plays(db, video) -> tuple[int, int]:
    db.session.expire_all()
    count = db.session.get(Video, video.id).view_count
    rows = db.session.scalar(
        sa.select(sa.func.count()).select_from(View).where(View.video_id == video.id)
    )
    return count, rows


def test_one_play_per_grant_however_many_ranges(client, video, db):
    open_player(client, video)
    stream(client, video, Range="bytes=0-1")
    stream(client, video, Range="bytes=0-")
    for start in range(0, video.size, 50_000):
        stream(client, video, Range=f"bytes={start}-")
    assert plays(db, video) == (1, 1)
    view = db.session.scalar(sa.select(View).where(View.video_id == video.id))
    assert view.kind == "play"


def test_head_and_refusals_count_no_play(client, video, db):
    stream(client, video)  # no grant yet
    open_player(client, video)
    stream(client, video, method="HEAD")
    stream(client, video, Range="bytes=99999999-")
    assert plays(db, video) == (0, 0)


def test_opening_the_player_again_is_another_play_of_the_same_viewer(client, video, db):
    open_player(client, video)
    stream(client, video, Range="bytes=0-")
    open_player(client, video)
    stream(client, video, Range="bytes=0-")
    stream(client, video, Range="bytes=100-")
    # Two plays are logged; the video's view count counts its viewer once a day.
    assert plays(db, video) == (1, 2)


def test_a_play_is_credited_to_its_film(client, db, make_video):
    movie = make_movie("Counted")
    video = make_video(movie=movie)
    open_player(client, video)
    stream(client, video, Range="bytes=0-1")
    view = db.session.scalar(sa.select(View).where(View.kind == "play"))
    assert view.movie_id == movie.id


# -- offloading to nginx -----------------------------------------------------------------------


def test_x_accel_mode_hands_the_file_to_nginx(client, app, video, monkeypatch):
    monkeypatch.setitem(app.config, "STREAM_OFFLOAD", "x-accel")
    open_player(client, video)
    response = stream(client, video, Range="bytes=0-1")
    assert response.status_code == 200
    assert response.headers["X-Accel-Redirect"] == f"/_protected_media/{video.storage_key}"
    assert response.data == b""
    assert_refused(stream(app.test_client(), video))


# -- locked videos -----------------------------------------------------------------------------


def test_locked_video_asks_for_its_password(client, locked_video):
    response = client.get(f"/watch/{locked_video.id}")
    assert response.status_code == 200
    assert 'name="password"' in response.text
    assert "<video" not in response.text
    assert_refused(stream(client, locked_video))


def test_wrong_password_says_so(client, locked_video):
    response = client.post(f"/watch/{locked_video.id}/unlock", data={"password": "guess"})
    assert response.status_code == 422
    assert "That password is not right" in response.text
    assert_refused(stream(client, locked_video))


def test_right_password_opens_the_player(client, locked_video):
    response = client.post(f"/watch/{locked_video.id}/unlock", data={"password": "open sesame 7"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/watch/{locked_video.id}"
    page = client.get(f"/watch/{locked_video.id}")
    assert "<video" in page.text
    assert stream(client, locked_video, Range="bytes=0-1").status_code == 206


def test_unlock_with_htmx_redirects_the_page(client, locked_video, hx):
    response = client.post(
        f"/watch/{locked_video.id}/unlock", data={"password": "open sesame 7"}, headers=hx
    )
    assert response.headers["HX-Redirect"] == f"/watch/{locked_video.id}"
    wrong = client.post(f"/watch/{locked_video.id}/unlock", data={"password": "no"}, headers=hx)
    assert wrong.status_code == 422
    assert "<html" not in wrong.text and "That password is not right" in wrong.text
    assert "HX-Request" in wrong.headers["Vary"]


def test_expired_grant_goes_back_to_the_password_form(client, locked_video, db):
    client.post(f"/watch/{locked_video.id}/unlock", data={"password": "open sesame 7"})
    db.session.execute(sa.update(AccessGrant).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    response = client.get(f"/watch/{locked_video.id}")
    assert 'name="password"' in response.text
    assert "expired" in response.text
    assert_refused(stream(client, locked_video))


def test_wrong_passwords_are_throttled_per_address_and_video(client, app, locked_video, make_video):
    for _ in range(5):
        assert (
            client.post(f"/watch/{locked_video.id}/unlock", data={"password": "guess"}).status_code
            == 422
        )
    throttled = client.post(f"/watch/{locked_video.id}/unlock", data={"password": "open sesame 7"})
    assert throttled.status_code == 429
    assert "Too many wrong passwords" in throttled.text
    assert_refused(stream(client, locked_video))
    # Another video from the same address still has its own attempts.
    other = make_video(password="second secret")
    ok = client.post(f"/watch/{other.id}/unlock", data={"password": "second secret"})
    assert ok.status_code == 303
    # Another address may still try this video.
    elsewhere = app.test_client()
    response = elsewhere.post(
        f"/watch/{locked_video.id}/unlock",
        data={"password": "open sesame 7"},
        environ_base={"REMOTE_ADDR": "192.0.2.77"},
    )
    assert response.status_code == 303


def test_password_check_ignores_absurd_input(client, locked_video):
    response = client.post(f"/watch/{locked_video.id}/unlock", data={"password": "x" * 100_000})
    assert response.status_code in (413, 422)
    response = client.post(f"/watch/{locked_video.id}/unlock", data={"password": "\x00\u202e💥"})
    assert response.status_code == 422


def test_unlock_needs_csrf(client, locked_video):
    response = client.post(
        f"/watch/{locked_video.id}/unlock", data={"password": "open sesame 7"}, csrf=False
    )
    assert response.status_code == 400
    assert_refused(stream(client, locked_video))


# -- resume positions --------------------------------------------------------------------------


def report(client, video, position, duration=100.0, **kw):
    return client.post(
        f"/watch/{video.id}/progress", data={"position": position, "duration": duration}, **kw
    )


def saved_position(db, user, video):
    from aura.models import PlaybackProgress

    db.session.expire_all()
    return db.session.scalar(
        sa.select(PlaybackProgress).where(
            PlaybackProgress.user_id == user.id, PlaybackProgress.video_id == video.id
        )
    )


def test_progress_between_5_and_90_percent_is_kept_and_resumed(client, db, video):
    user = make_user()
    login_as(client, user)
    open_player(client, video)
    assert report(client, video, 3).status_code == 204
    assert saved_position(db, user, video) is None  # too early to be worth resuming
    assert report(client, video, 42.5).status_code == 204
    assert saved_position(db, user, video).position_seconds == 42.5
    page = open_player(client, video)
    assert f'src="/stream/{video.id}#t=42.5"' in page.text
    assert "Resuming where you stopped, at 0:42" in page.text
    restart = client.get(f"/watch/{video.id}?restart=1")
    assert f'src="/stream/{video.id}"' in restart.text


def test_past_90_percent_is_watched_and_starts_over(client, db, video):
    user = make_user()
    login_as(client, user)
    open_player(client, video)
    report(client, video, 50)
    report(client, video, 95)
    progress = saved_position(db, user, video)
    assert progress.watched and progress.position_seconds == 0
    assert f'src="/stream/{video.id}"' in open_player(client, video).text


@pytest.mark.parametrize(
    ("position", "duration"),
    [("nan", 100), ("inf", 100), ("-1", 100), ("abc", 100), (5, 0), (5, "")],
)
def test_nonsense_progress_is_400(client, video, position, duration):
    login_as(client, make_user())
    open_player(client, video)
    assert report(client, video, position, duration).status_code == 400


def test_progress_needs_a_grant(client, db, video):
    user = make_user()
    login_as(client, user)
    assert report(client, video, 50).status_code == 403
    assert saved_position(db, user, video) is None


def test_anonymous_progress_only_keeps_the_grant_alive(client, db, video):
    open_player(client, video)
    assert report(client, video, 50).status_code == 204
    from aura.models import PlaybackProgress

    assert db.session.scalar(sa.select(sa.func.count()).select_from(PlaybackProgress)) == 0


def test_playing_extends_the_grant(client, db, video):
    open_player(client, video)
    grant = db.session.scalar(sa.select(AccessGrant))
    soon = utcnow() + timedelta(minutes=5)
    db.session.execute(sa.update(AccessGrant).values(expires_at=soon, last_used_at=None))
    db.session.commit()
    report(client, video, 10)
    db.session.expire_all()
    grant = db.session.scalar(sa.select(AccessGrant))
    assert grant.expires_at > utcnow() + timedelta(minutes=55)


def test_continue_watching_on_the_home_page(client, db, make_video):
    user = make_user()
    movie = make_movie("Resumable Film", popular_score=10)
    video = make_video(title="Resumable reel", movie=movie)
    login_as(client, user)
    open_player(client, video)
    report(client, video, 30)
    home = client.get("/")
    assert "Continue watching" in home.text
    assert f'href="/watch/{video.id}"' in home.text
    assert "Resumable reel" in home.text
    # The rows fragment does not carry it, and other people do not see it.
    assert "Continue watching" not in client.get("/", headers={"HX-Request": "true"}).text
    other = client.application.test_client()
    login_as(other, make_user())
    assert "Continue watching" not in other.get("/").text


# -- thumbnails --------------------------------------------------------------------------------


def test_thumbnail_is_served_as_an_image(client, db, make_video, media_dir):
    import os

    key = "ab" * 16
    with open(os.path.join(media_dir, key), "wb") as fh:
        fh.write(PNG_BYTES)
    video = make_video(thumbnail_key=key, thumbnail_content_type="image/png")
    response = client.get(f"/watch/{video.id}/thumbnail")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data == PNG_BYTES
    assert client.get(f"/watch/{make_video().id}/thumbnail").status_code == 404


# -- purge -------------------------------------------------------------------------------------


def test_purge_removes_expired_grants_and_old_views(runner, client, db, make_video, app):
    first, second = make_video(), make_video()
    open_player(client, first)
    open_player(client, second)
    db.session.execute(
        sa.update(AccessGrant)
        .where(AccessGrant.video_id == first.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    old = View(kind="play", video_id=first.id, at=utcnow() - timedelta(days=400))
    recent = View(kind="play", video_id=first.id, at=utcnow() - timedelta(days=1))
    db.session.add_all([old, recent])
    db.session.commit()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "1 expired access grants" in result.output
    assert "1 old views" in result.output
    db.session.expire_all()
    assert [g.video_id for g in db.session.scalars(sa.select(AccessGrant))] == [second.id]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(View)) == 1


def test_session_keeps_a_bounded_number_of_grants(client, make_video):
    videos = [make_video(title=f"Reel {n}") for n in range(20)]
    for video in videos:
        open_player(client, video)
    held = grants_in(client)
    assert len(held) == 16
    assert str(videos[-1].id) in held and str(videos[0].id) not in held
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", held[str(videos[-1].id)])


def test_grants_die_with_their_video(client, db, video):
    open_player(client, video)
    _db.session.delete(_db.session.get(Video, video.id))
    _db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessGrant)) == 0
