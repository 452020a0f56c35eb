"""Video bytes over HTTP: a plan from ``aura.services.streaming`` turned into a WSGI response.

The body of a 200 or 206 is a seeked, length-bounded window of the file handed to the server's
``wsgi.file_wrapper``. Waitress recognises its own wrapper and sends it from its I/O thread, so
no worker thread is held while a viewer downloads (werkzeug's 206 path would copy the range in a
worker for the whole stream, and a few slow viewers could starve the site).

With ``AURA_STREAM_OFFLOAD=x-accel`` the body is left to nginx: Aura answers with an
``X-Accel-Redirect`` to an ``internal`` location and nginx does ranges with sendfile.

Media in an S3 bucket is never sent by Aura: the browser is redirected (307) to a presigned URL
for that one object, short-lived, and the bucket answers the ranges; with x-accel, nginx
proxies the same presigned request to the bucket instead, so the browser only sees this site.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import current_app
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from aura.errors import NotFound
from aura.services.streaming import CACHE_CONTROL, FileSlice, MediaFile, Plan, plan_response

BLOCK_SIZE = 256 * 1024  # how much a generic file wrapper reads at a time


def _bodiless(plan: Plan, content_length: int, content_type: str | None) -> Response:
    response = Response((), status=plan.status, direct_passthrough=True)
    response.headers.clear()
    if content_type:
        response.headers["Content-Type"] = content_type
    response.headers.update(plan.headers)
    if plan.status != 304:  # a 304 describes the full response, so it carries no length
        response.headers["Content-Length"] = str(content_length)
    return response


def file_response(environ: Mapping, headers: Mapping[str, str], media: MediaFile) -> Response:
    """The response to a GET or HEAD of ``media``, honouring ranges and conditional headers.

    The file is opened once; a response with a body owns the open file until the server has
    sent the window and closes it (also when the client goes away mid-stream).
    """
    method = environ["REQUEST_METHOD"]
    assert media.path is not None
    file = open(media.path, "rb")  # noqa: SIM115 - handed to the server, which closes it
    try:
        stat = os.fstat(file.fileno())
        plan = plan_response(headers, method, stat.st_size, media.etag, int(stat.st_mtime))
        if not plan.has_body or method == "HEAD":
            file.close()
            if plan.status in (200, 206):
                return _bodiless(plan, plan.length, media.content_type)
            return _bodiless(plan, 0, None)
        body = wrap_file(environ, FileSlice(file, plan.start, plan.end), BLOCK_SIZE)
    except BaseException:
        file.close()
        raise
    response = Response(body, status=plan.status, direct_passthrough=True)
    response.headers.clear()
    response.headers["Content-Type"] = media.content_type
    response.headers.update(plan.headers)
    response.headers["Content-Length"] = str(plan.length)
    return response


def offload_response(media: MediaFile) -> Response:
    """Let nginx send the file: an ``X-Accel-Redirect`` to its ``internal`` media location."""
    response = Response(b"", status=200)
    response.headers["Content-Type"] = media.content_type
    response.headers["X-Accel-Redirect"] = media.offload_path or ""
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def redirect_response(media: MediaFile) -> Response:
    """Send the browser to the presigned URL (307: a HEAD stays a HEAD). Never cached: the
    URL dies in minutes, and the next request must pass the grant check again."""
    response = Response(b"", status=307)
    response.headers["Location"] = media.redirect_url or ""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def respond(environ: Mapping, headers: Mapping[str, str], media: MediaFile) -> Response:
    """The answer to an authorised GET or HEAD of ``media``, as ``AURA_STREAM_OFFLOAD`` says:
    the bytes from Aura (or a redirect to the bucket), or an ``X-Accel-Redirect`` for nginx.
    """
    if current_app.config["STREAM_OFFLOAD"] == "x-accel":
        return offload_response(media)
    if media.path is None:
        return redirect_response(media)
    try:
        return file_response(environ, headers, media)
    except FileNotFoundError:
        current_app.logger.error("video file %s is missing", media.path)
        raise NotFound("This video's file is not on the server any more.") from None
