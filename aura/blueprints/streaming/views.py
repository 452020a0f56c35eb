"""Watching videos: the player page, the password form, the range streamer, resume positions.

The grant token for each video lives in the (signed) session cookie under ``grants``; the
session's random ``stream_sid`` binds grants to this browser. Nothing about access is ever put
in a URL, so a copied stream address opens nothing.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from flask import Response, has_request_context, request, send_file, session, url_for
from flask_login import current_user, user_logged_out

from aura.blueprints.catalog.views import movie_page_provider
from aura.blueprints.streaming import bp
from aura.errors import NotFound, Throttled
from aura.extensions import client_ip
from aura.htmx import hx_redirect, is_partial, render
from aura.models import Movie
from aura.services import grants, media, playback, streaming, videos

SESSION_GRANTS = "grants"
SESSION_ID = "stream_sid"
MAX_SESSION_GRANTS = 16  # the cookie must stay small: the oldest grants make room


def _session_id() -> str:
    sid = session.get(SESSION_ID)
    if not isinstance(sid, str) or not 20 <= len(sid) <= 64:
        sid = session[SESSION_ID] = secrets.token_urlsafe(24)
    return sid


def _viewer() -> grants.Viewer:
    signed_in = current_user.is_authenticated
    return grants.Viewer(
        session_id=_session_id(),
        user_id=current_user.id if signed_in else None,
        supervisor=current_user.is_supervisor,
        client_ip=client_ip(),
        user_agent=request.user_agent.string,
        referrer=request.referrer,
    )


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


@user_logged_out.connect
def _revoke_on_sign_out(sender, user=None, **_extra) -> None:
    """Signing out ends this browser's grants, so a copy of the old cookie streams nothing."""
    if not has_request_context():
        return
    sid = session.get(SESSION_ID)
    if isinstance(sid, str):
        grants.revoke_session(sid)
    session.pop(SESSION_GRANTS, None)


@bp.get("/watch/<uuid:video_id>")
def watch_video(video_id: uuid.UUID) -> Response:
    viewer = _viewer()
    try:
        video, token = grants.open_player(video_id, _token(video_id), viewer)
    except grants.PasswordRequired as locked:
        return _unlock_page(locked.video, expired=locked.expired)
    _remember(video_id, token)
    restart = request.args.get("restart") == "1"
    return render(
        "streaming/video_watch.html",
        video=video,
        movie=video.movie,
        resume=0.0 if restart else playback.resume_position(viewer.user_id, video.id),
    )


def _unlock_page(video, status: int = 200, error: str | None = None, expired: bool = False):
    return render(
        "streaming/video_unlock.html",
        "unlock",
        status=status,
        video=video,
        error=error,
        expired=expired,
    )


@bp.post("/watch/<uuid:video_id>/unlock")
def unlock_video(video_id: uuid.UUID) -> Response:
    viewer = _viewer()
    try:
        token = grants.unlock(video_id, request.form.get("password", ""), viewer)
    except grants.WrongPassword as wrong:
        return _unlock_page(wrong.video, status=422, error=wrong.message)
    except Throttled as throttled:
        video = grants.watchable_video(video_id, include_hidden=viewer.supervisor)
        response = _unlock_page(video, status=429, error=throttled.message)
        response.headers["Retry-After"] = "300"
        return response
    _remember(video_id, token)
    return hx_redirect(url_for("streaming.watch_video", video_id=video_id))


@bp.route("/stream/<uuid:video_id>", methods=["GET", "HEAD"])
def stream_video(video_id: uuid.UUID) -> Response:
    viewer = _viewer()
    video, grant = grants.authorize(video_id, _token(video_id), viewer)
    response = streaming.respond(request.environ, request.headers, media.media_file(video))
    if request.method == "GET" and response.status_code in (200, 206):
        grants.count_play(grant, video, viewer)
    return response


@bp.post("/watch/<uuid:video_id>/progress")
def save_progress(video_id: uuid.UUID) -> Response:
    playback.record(
        video_id,
        _token(video_id),
        _viewer(),
        request.form.get("position", ""),
        request.form.get("duration", ""),
    )
    return Response(status=204)


@bp.get("/watch/<uuid:video_id>/thumbnail")
def show_thumbnail(video_id: uuid.UUID) -> Response:
    image = videos.thumbnail(video_id, include_hidden=current_user.is_supervisor)
    try:
        response = send_file(
            image.path, mimetype=image.content_type, conditional=True, etag=image.etag, max_age=3600
        )
    except FileNotFoundError:
        raise NotFound("This video's thumbnail is missing.") from None
    response.cache_control.private = True
    response.cache_control.public = False
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@bp.app_template_filter("timecode")
def timecode(seconds: float | None) -> str:
    """1:02:03 or 2:03, the way players show a position."""
    total = int(seconds or 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@movie_page_provider
def _movie_videos(movie: Movie) -> dict[str, Any]:
    return {"movie_videos": videos.videos_for_movie(movie.id)}


@bp.app_context_processor
def _continue_watching() -> dict[str, Any]:
    """The home page's "Continue watching" strip for the signed-in viewer."""
    if (
        not has_request_context()
        or request.endpoint != "catalog.show_home"
        or not current_user.is_authenticated
        or is_partial()
    ):
        return {}
    return {
        "continue_watching": playback.continue_watching(
            current_user.id, include_hidden=current_user.is_supervisor
        )
    }
