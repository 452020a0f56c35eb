"""App-wide web plumbing: error pages and fragments, template helpers, the health check."""

from __future__ import annotations

import hashlib
import logging
import os
from functools import cache as memoize

from flask import Flask, Response, current_app, jsonify, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, ProgrammingError
from werkzeug.exceptions import HTTPException

from aura.errors import AuraError
from aura.htmx import is_partial, render

log = logging.getLogger(__name__)

HTMX_FILE = "vendor/htmx-2.0.11.min.js"

NOT_SET_UP = (
    "The database is not set up yet: run `aura db upgrade` and `aura load-demo` (or `aura demo`)."
)


def init_app(app: Flask) -> None:
    app.register_error_handler(AuraError, _aura_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_error)
    app.register_error_handler(ProgrammingError, _database_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.jinja_env.globals.update(asset=asset, htmx_file=HTMX_FILE)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def asset(filename: str) -> str:
    """A static URL with a content hash, so assets can be cached for a year."""
    return url_for(
        "static", filename=filename, v=_asset_version(current_app.static_folder, filename)
    )


@memoize
def _asset_version(static_folder: str, filename: str) -> str:
    try:
        with open(os.path.join(static_folder, filename), "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()[:10]
    except OSError:
        return "0"


def error_response(status: int, title: str, message: str) -> Response:
    """The error page, or for htmx a message swapped into the page's notice area."""
    if is_partial():
        response = render(
            "errors/error.html", "notice", status=status, title=title, message=message
        )
        response.headers["HX-Retarget"] = "#notices"
        response.headers["HX-Reswap"] = "beforeend"
        return response
    return render("errors/error.html", status=status, title=title, message=message)


def _aura_error(error: AuraError) -> Response:
    return error_response(error.status, error.title, error.message)


def _csrf_error(error: CSRFError) -> Response:
    return error_response(
        400,
        "This form has expired",
        "Your session changed or the page is too old. Reload the page and try again.",
    )


MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    401: ("Please sign in", "You need to sign in to do that."),
    403: ("Forbidden", "You do not have access to this."),
    404: ("Not found", "There is nothing here. The address may be wrong or the item was removed."),
    405: ("Method not allowed", "That action is not possible here."),
    413: ("Too large", "That upload is larger than this site accepts."),
    429: ("Slow down", "Too many attempts. Please wait a moment and try again."),
}


def _http_error(error: HTTPException) -> Response:
    if error.code is None or error.code < 400:
        return error  # redirects raised as exceptions pass through
    title, message = MESSAGES.get(error.code, (error.name, error.description or ""))
    response = error_response(error.code, title, message)
    if error.code == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _database_error(error: Exception) -> Response:
    text = str(error).lower()
    if "no such table" in text or "does not exist" in text:
        log.error("database schema missing (%s): %s", type(error).__name__, NOT_SET_UP)
        return error_response(503, "Aura is not set up", NOT_SET_UP)
    return _unexpected_error(error)


def _unexpected_error(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(
        500, "Something went wrong", "An unexpected error happened. It has been logged."
    )


def healthz() -> Response:
    """Liveness and readiness: database reachable and migrations at head."""
    from aura.services.health import check

    report = check()
    response = jsonify(report)
    response.status_code = 200 if report["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response
