"""Watching videos: the video library, the player page, the password form, the range streamer,
resume positions, thumbnails.

The grant token for each video lives in the (signed) session cookie under ``grants``; the
browser's random key (``aura.web.browser_key``) binds grants to this browser. Nothing about
access is ever put in a URL, so a copied stream address opens nothing.
"""

from __future__ import annotations

import io
import uuid

from flask import Blueprint, Response, request, send_file, session, url_for

from aura.blueprints.streaming.forms import UnlockForm
from aura.blueprints.streaming.responses import respond
from aura.errors import Invalid, NotFound, Throttled
from aura.forms import show_errors
from aura.htmx import hx_redirect, render
from aura.models import Video
from aura.services import captions, grants, media, pages, playback, posters, videos
from aura.web import current_visitor, generated_svg

bp = Blueprint("streaming", __name__)

SESSION_GRANTS = "grants"
SESSION_UNLOCKED = "unlocked"  # videos this browser unlocked before (it is known to them)
MAX_SESSION_GRANTS = 16  # the cookie must stay small: the oldest grants make room


def _held() -> list[tuple[str, str]]:
    """The session's grants as (video id, token) pairs, oldest first.

    A list, not a dict: the session serializer sorts a dict's keys, and the oldest must go first.
    """
    held = session.get(SESSION_GRANTS)
    if not isinstance(held, list):
        return []
    return [
        (pair[0], pair[1])
        for pair in held
        if isinstance(pair, list | tuple)
        and len(pair) == 2
        and all(isinstance(part, str) for part in pair)
    ]


def _token(video_id: uuid.UUID) -> str | None:
    return next((token for key, token in _held() if key == str(video_id)), None)


def _remember(video_id: uuid.UUID, token: str) -> None:
    held = [pair for pair in _held() if pair[0] != str(video_id)]
    held.append((str(video_id), token))
    session[SESSION_GRANTS] = [list(pair) for pair in held[-MAX_SESSION_GRANTS:]]


@bp.app_template_global()
def video_thumbnail_url(video: Video) -> str:
    """The uploaded thumbnail, else the generated one (its URL carries its version)."""
    if video.thumbnail_key:
        return url_for("streaming.show_thumbnail", video_id=video.id)
    return url_for(
        "streaming.show_generated_thumbnail",
        video_id=video.id,
        v=posters.thumbnail_version(video),
    )


@bp.get("/videos")
def list_videos() -> Response:
    args = request.args
    library = pages.video_library(
        args.get("q"),
        args.get("sort"),
        args.get("show"),
        args.get("after") or None,
        current_visitor(),
    )
    cursor = library.page.next_cursor
    return render(
        "streaming/videos_list.html",
        "videos",
        library=library,
        sorts=videos.LIBRARY_SORTS,
        shows=videos.LIBRARY_SHOWS,
        first_page=not args.get("after"),
        next_url=cursor and url_for("streaming.list_videos", after=cursor, **library.args),
    )


@bp.get("/watch/<uuid:video_id>")
def watch_video(video_id: uuid.UUID) -> Response:
    visitor = current_visitor(browser=True)
    restart = request.args.get("restart") == "1"
    try:
        watch = pages.watch(video_id, _token(video_id), visitor, restart)
    except grants.PasswordRequired as locked:
        return _unlock_page(locked.video, expired=locked.expired)
    _remember(video_id, watch.token)
    return render("streaming/video_watch.html", player=watch)


def _unlock_page(
    video: Video,
    form: UnlockForm | None = None,
    status: int = 200,
    expired: bool = False,
) -> Response:
    form = form or UnlockForm(formdata=None)
    form.password.data = ""  # never sent back
    return render(
        "streaming/video_unlock.html",
        "unlock",
        status=status,
        video=video,
        form=form,
        expired=expired,
    )


@bp.post("/watch/<uuid:video_id>/unlock")
def unlock_video(video_id: uuid.UUID) -> Response:
    visitor = current_visitor(browser=True)
    form = UnlockForm()
    if not form.validate():
        video = grants.watchable_video(video_id, include_hidden=visitor.sees_hidden)
        return _unlock_page(video, form, status=422)
    unlocked = session.get(SESSION_UNLOCKED)
    unlocked = (
        [key for key in unlocked if isinstance(key, str)] if isinstance(unlocked, list) else []
    )
    try:
        token = grants.unlock(
            video_id, form.password.data or "", visitor, known_browser=str(video_id) in unlocked
        )
    except grants.WrongPassword as wrong:
        show_errors(form, wrong)
        return _unlock_page(wrong.video, form, status=422)
    except Throttled as throttled:
        show_errors(form, Invalid(throttled.message))
        video = grants.watchable_video(video_id, include_hidden=visitor.sees_hidden)
        response = _unlock_page(video, form, status=429)
        response.headers["Retry-After"] = str(throttled.retry_after)
        return response
    _remember(video_id, token)
    earlier = [key for key in unlocked if key != str(video_id)][-15:]
    session[SESSION_UNLOCKED] = [*earlier, str(video_id)]
    return hx_redirect(url_for("streaming.watch_video", video_id=video_id))


@bp.route("/stream/<uuid:video_id>", methods=["GET", "HEAD"])
def stream_video(video_id: uuid.UUID) -> Response:
    visitor = current_visitor(browser=True)
    video, grant = grants.authorize(video_id, _token(video_id), visitor)
    stored = media.media_file(video, grant.expires_at, request.method)
    response = respond(request.environ, request.headers, stored)
    # A redirect to the bucket counts as the play: the bytes no longer pass through Aura.
    if request.method == "GET" and response.status_code in (200, 206, 307):
        grants.count_play(grant, video, visitor)
    return response


@bp.post("/watch/<uuid:video_id>/progress")
def save_progress(video_id: uuid.UUID) -> Response:
    playback.record(
        video_id,
        _token(video_id),
        current_visitor(browser=True),
        request.form.get("position", ""),
        request.form.get("duration", ""),
    )
    return Response(status=204)


def _send_small(file: media.SmallFile, mimetype: str, etag: str, max_age: int) -> Response:
    """A thumbnail or caption: from the media folder, or the bytes read from the bucket."""
    if file.path is not None:
        return send_file(file.path, mimetype=mimetype, conditional=True, etag=etag, max_age=max_age)
    return send_file(
        io.BytesIO(file.data or b""),
        mimetype=mimetype,
        conditional=True,
        etag=etag,
        max_age=max_age,
    )


@bp.get("/watch/<uuid:video_id>/captions/<id:caption_id>.vtt")
def show_captions(video_id: uuid.UUID, caption_id: int) -> Response:
    """A caption file, under the same grant as the video it belongs to."""
    grants.authorize(video_id, _token(video_id), current_visitor(browser=True))
    try:
        caption = captions.caption_file(video_id, caption_id)
        response = _send_small(caption.file, "text/vtt", caption.etag, max_age=0)
    except FileNotFoundError:
        raise NotFound("This caption file is missing.") from None
    response.headers["Content-Type"] = "text/vtt; charset=utf-8"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response


@bp.get("/watch/<uuid:video_id>/thumbnail")
def show_thumbnail(video_id: uuid.UUID) -> Response:
    try:
        image = videos.thumbnail(video_id, include_hidden=current_visitor().sees_hidden)
        response = _send_small(image.file, image.content_type, image.etag, max_age=3600)
    except FileNotFoundError:
        raise NotFound("This video's thumbnail is missing.") from None
    response.cache_control.private = True
    response.cache_control.public = False
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@bp.get("/videos/<uuid:video_id>/thumbnail.svg")
def show_generated_thumbnail(video_id: uuid.UUID) -> Response:
    video = grants.watchable_video(video_id, include_hidden=current_visitor().sees_hidden)
    hidden = video.movie is not None and video.movie.hidden  # only supervisors get here
    return generated_svg(
        posters.render_thumbnail_svg(video), posters.thumbnail_version(video), shared=not hidden
    )
