"""The supervisor's video pages: the list, upload (with a progress bar), edit, delete."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from flask import Response, current_app, flash, g, make_response, request, url_for
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from aura.blueprints.supervisor import bp
from aura.blueprints.supervisor.forms import EditVideoForm, VideoForm
from aura.errors import Invalid
from aura.extensions import client_ip
from aura.htmx import hx_redirect, is_partial, render
from aura.services import media, videos
from aura.web import error_response

UPLOAD_ENDPOINTS = {"supervisor.new_video", "supervisor.edit_video"}


@bp.url_value_preprocessor
def _stream_uploads_to_media(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """File parts of an upload go straight into the media folder, not to memory or /tmp.

    Set before anything reads the form (the CSRF check does, in a ``before_request`` hook).
    """
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        g.upload_spools = []
        request.form_data_parser_class = partial(
            media.MediaFormParser, directory=media.media_dir(), spools=g.upload_spools
        )


@bp.teardown_request
def _remove_unkept_uploads(_error: BaseException | None) -> None:
    for spool in g.pop("upload_spools", ()):
        spool.close()


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(_error: RequestEntityTooLarge) -> Response:
    limit = current_app.config["MAX_UPLOAD_MB"]
    return error_response(
        413,
        "That file is too large",
        f"Videos can be at most {limit:,} MB. Choose a smaller file, or ask whoever runs this "
        "site to raise AURA_MAX_UPLOAD_MB.",
    )


def _spool(file: FileStorage | None) -> media.UploadSpool | None:
    if file is None or not isinstance(file.stream, media.UploadSpool):
        return None
    return file.stream


def _film_reference(movie) -> str:
    if movie is None:
        return ""
    year = f" ({movie.year})" if movie.year else ""
    return f"{movie.title}{year} · #{movie.id}"


def _form_page(form, status: int = 200, video=None) -> Response:
    return render(
        "supervisor/video_form.html",
        "video_form",
        status=status,
        form=form,
        video=video,
        max_upload_mb=current_app.config["MAX_UPLOAD_MB"],
    )


def _apply_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]


@bp.get("/videos")
def list_videos() -> Response:
    return render("supervisor/videos_list.html", videos=videos.list_videos())


@bp.route("/videos/new", methods=["GET", "POST"])
def new_video() -> Response:
    form = VideoForm()
    if request.method == "GET" and (movie_id := request.args.get("movie", "").strip()):
        try:
            form.movie.data = _film_reference(videos.find_movie(movie_id))
        except Invalid:
            form.movie.data = ""
    if not form.validate_on_submit():
        return _form_page(form, 422 if request.method == "POST" else 200)
    try:
        video = videos.create_video(
            videos.VideoDetails(
                title=form.title.data or "",
                description=form.description.data or "",
                movie=form.movie.data or "",
                password=form.password.data or "",
            ),
            _spool(form.file.data),
            filename=form.file.data.filename if form.file.data else None,
            thumbnail=_spool(form.thumbnail.data),
            uploader_id=current_user.id,
            client_ip=client_ip(),
        )
    except videos.FieldErrors as errors:
        _apply_errors(form, errors.errors)
        return _form_page(form, errors.status)
    flash(f"Uploaded “{video.title}”.", "success")
    return hx_redirect(url_for("supervisor.list_videos"))


@bp.route("/videos/<uuid:video_id>/edit", methods=["GET", "POST"])
def edit_video(video_id: uuid.UUID) -> Response:
    video = videos.get_video(video_id)
    form = EditVideoForm()
    if request.method == "GET":
        form.title.data = video.title
        form.description.data = video.description or ""
        form.movie.data = _film_reference(video.movie)
    if not form.validate_on_submit():
        return _form_page(form, 422 if request.method == "POST" else 200, video=video)
    try:
        video = videos.update_video(
            video_id,
            videos.VideoDetails(
                title=form.title.data or "",
                description=form.description.data or "",
                movie=form.movie.data or "",
                password=form.password.data or "",
                remove_password=bool(form.remove_password.data),
                remove_thumbnail=bool(form.remove_thumbnail.data),
            ),
            thumbnail=_spool(form.thumbnail.data),
            actor_id=current_user.id,
            client_ip=client_ip(),
        )
    except videos.FieldErrors as errors:
        _apply_errors(form, errors.errors)
        return _form_page(form, errors.status, video=video)
    flash(f"Saved “{video.title}”.", "success")
    return hx_redirect(url_for("supervisor.list_videos"))


@bp.post("/videos/<uuid:video_id>/delete")
def delete_video(video_id: uuid.UUID) -> Response:
    videos.delete_video(video_id, actor_id=current_user.id, client_ip=client_ip())
    if is_partial():  # the list's delete button: swap the row away
        response = make_response("", 200)
        response.vary.add("HX-Request")
        return response
    flash("The video was deleted.", "success")
    return hx_redirect(url_for("supervisor.list_videos"))


@bp.get("/videos/films")
def find_films() -> Response:
    query = request.args.get("movie") or request.args.get("q") or ""
    return render(
        "supervisor/films_find.html",
        "film_options",
        query=query,
        films=videos.film_choices(query) if query.strip() else [],
    )
