"""The supervisor's video pages: the list, upload (with a progress bar), edit, delete."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, current_app, flash, make_response, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from aura.blueprints.supervisor import uploads
from aura.blueprints.supervisor.forms import CaptionForm, EditVideoForm, VideoForm
from aura.errors import Invalid
from aura.extensions import client_ip
from aura.forms import show_errors
from aura.htmx import hx_redirect, is_partial, render
from aura.models import Movie, Video
from aura.services import captions, videos
from aura.web import error_response

UPLOAD_ENDPOINTS = {"supervisor.new_video", "supervisor.edit_video"}


def _spool_uploads(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        uploads.spool_uploads()


def _upload_too_large(_error: RequestEntityTooLarge) -> Response:
    limit = current_app.config["MAX_UPLOAD_MB"]
    return error_response(
        413,
        "That file is too large",
        f"Videos can be at most {limit:,} MB. Choose a smaller file, or ask whoever runs this "
        "site to raise AURA_MAX_UPLOAD_MB.",
    )


def _film_reference(movie: Movie | None) -> str:
    if movie is None:
        return ""
    year = f" ({movie.year})" if movie.year else ""
    return f"{movie.title}{year} · #{movie.id}"


def _form_page(
    form,
    status: int = 200,
    video: Video | None = None,
    caption_form: CaptionForm | None = None,
    captions_only: bool = False,
) -> Response:
    """The upload or edit form (and, when editing, the video's captions). With htmx the
    chosen file stays chosen across a refusal (the file input is preserved), unless the file
    itself was refused; a plain form must have it chosen again, and says so."""
    block = "captions" if captions_only else "video_form"
    return render(
        "supervisor/video_form.html",
        block,
        status=status,
        form=form,
        video=video,
        keeps_file=is_partial(),
        max_upload_mb=current_app.config["MAX_UPLOAD_MB"],
        captions=captions.captions_of(video.id) if video else [],
        caption_form=caption_form or CaptionForm(formdata=None, prefix="caption"),
    )


def _edit_form(video: Video) -> EditVideoForm:
    form = EditVideoForm(formdata=None)
    form.title.data = video.title
    form.description.data = video.description or ""
    form.movie.data = _film_reference(video.movie)
    return form


def _details(form) -> videos.VideoDetails:
    return videos.VideoDetails(
        title=form.title.data or "",
        description=form.description.data or "",
        movie=form.movie.data or "",
        password=form.password.data or "",
        remove_password=bool(getattr(form, "remove_password", None) and form.remove_password.data),
        remove_thumbnail=bool(
            getattr(form, "remove_thumbnail", None) and form.remove_thumbnail.data
        ),
    )


def list_videos() -> Response:
    return render("supervisor/videos_list.html", videos=videos.list_videos())


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
            _details(form),
            uploads.spool_of(form.file.data),
            filename=form.file.data.filename if form.file.data else None,
            thumbnail=uploads.spool_of(form.thumbnail.data),
            uploader_id=current_user.id,
            client_ip=client_ip(),
        )
    except Invalid as invalid:
        show_errors(form, invalid)
        return _form_page(form, invalid.status)
    flash(f"Uploaded “{video.title}”.", "success")
    return hx_redirect(url_for("supervisor.list_videos"))


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
            _details(form),
            thumbnail=uploads.spool_of(form.thumbnail.data),
            actor_id=current_user.id,
            client_ip=client_ip(),
        )
    except Invalid as invalid:
        show_errors(form, invalid)
        return _form_page(form, invalid.status, video=video)
    flash(f"Saved “{video.title}”.", "success")
    return hx_redirect(url_for("supervisor.list_videos"))


def add_caption(video_id: uuid.UUID) -> Response:
    video = videos.get_video(video_id)
    form = CaptionForm(prefix="caption")
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(captions.MAX_CAPTION_BYTES + 1) if upload else b""
        try:
            caption = captions.add_caption(
                video.id,
                data,
                form.language.data,
                form.label.data,
                actor_id=current_user.id,
                client_ip=client_ip(),
            )
        except Invalid as invalid:
            show_errors(form, invalid)
        else:
            if is_partial():
                return _form_page(_edit_form(video), video=video, captions_only=True)
            flash(f"Added the {caption.label} captions.", "success")
            return hx_redirect(url_for("supervisor.edit_video", video_id=video.id) + "#captions")
    return _form_page(_edit_form(video), 422, video=video, caption_form=form, captions_only=True)


def remove_caption(video_id: uuid.UUID, caption_id: int) -> Response:
    captions.remove_caption(video_id, caption_id, actor_id=current_user.id, client_ip=client_ip())
    if is_partial():
        response = make_response("", 200)
        response.vary.add("HX-Request")
        return response
    flash("The captions were removed.", "success")
    return hx_redirect(url_for("supervisor.edit_video", video_id=video_id) + "#captions")


def delete_video(video_id: uuid.UUID) -> Response:
    videos.delete_video(video_id, actor_id=current_user.id, client_ip=client_ip())
    if is_partial():  # the list's delete button: swap the row away
        response = make_response("", 200)
        response.vary.add("HX-Request")
        return response
    flash("The video was deleted.", "success")
    return hx_redirect(url_for("supervisor.list_videos"))


def find_films() -> Response:
    query = request.args.get("movie") or request.args.get("q") or ""
    return render(
        "supervisor/films_find.html",
        "film_options",
        query=query,
        films=videos.film_choices(query) if query.strip() else [],
    )


def register(bp: Blueprint) -> None:
    bp.url_value_preprocessor(_spool_uploads)
    bp.teardown_request(uploads.close_uploads)
    bp.register_error_handler(RequestEntityTooLarge, _upload_too_large)
    bp.add_url_rule("/videos", view_func=list_videos)
    bp.add_url_rule("/videos/new", view_func=new_video, methods=["GET", "POST"])
    bp.add_url_rule("/videos/<uuid:video_id>/edit", view_func=edit_video, methods=["GET", "POST"])
    bp.add_url_rule("/videos/<uuid:video_id>/delete", view_func=delete_video, methods=["POST"])
    bp.add_url_rule("/videos/films", view_func=find_films)
    bp.add_url_rule("/videos/<uuid:video_id>/captions", view_func=add_caption, methods=["POST"])
    bp.add_url_rule(
        "/videos/<uuid:video_id>/captions/<id:caption_id>/delete",
        view_func=remove_caption,
        methods=["POST"],
    )
