"""App-wide web plumbing: who is asking, id converters, error pages and fragments, template
helpers, generated pictures' responses, the health check."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
from datetime import timedelta
from functools import cache as memoize
from urllib.parse import urlencode

import psycopg
from flask import (
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    make_response,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import BaseConverter

from aura.errors import AuraError, Throttled
from aura.extensions import client_ip, db, login_manager
from aura.htmx import is_partial, render
from aura.navigation import current_page
from aura.services import health
from aura.services.cursors import BadCursor
from aura.services.visitors import Visitor

log = logging.getLogger(__name__)

HTMX_FILE = "vendor/htmx-2.0.11.min.js"

NOT_SET_UP = (
    "The database is not set up yet: run `aura db upgrade` and `aura load-demo` (or `aura demo`)."
)


DATABASE_RETRY_AFTER = 5  # seconds: a restarting database is usually back by then

BROWSER_KEY = "browser"  # this browser's random key in the session cookie (binds access grants)


class IdConverter(BaseConverter):
    """``<id:movie_id>``: a row id in canonical ASCII digits (no sign, no leading zero), at
    most 18 of them, else 404.

    werkzeug's ``int`` converter matches ``\\d``, which takes Unicode digits, and lets numbers
    past 64 bits through to the database driver. Bounding the digits in the pattern itself
    (every 18-digit number fits in 63 bits) means a path that is not an id matches no rule,
    so it is a 404 even where the same path has rules for other methods.
    """

    regex = r"[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


def browser_key(create: bool = True) -> str | None:
    """This browser's random key, made the first time it is needed (to bind a grant)."""
    key = session.get(BROWSER_KEY)
    if isinstance(key, str) and 20 <= len(key) <= 64:
        return key
    if not create:
        return None
    key = session[BROWSER_KEY] = secrets.token_urlsafe(24)
    return key


def current_visitor(browser: bool = False) -> Visitor:
    """Who is asking, for the services; ``browser`` also gives (or makes) this browser's key."""
    visitor = g.get("visitor")
    if visitor is None or (browser and visitor.browser is None):
        signed_in = current_user.is_authenticated
        visitor = g.visitor = Visitor(
            user_id=current_user.id if signed_in else None,
            supervisor=current_user.is_supervisor,
            client_ip=client_ip(),
            user_agent=request.user_agent.string or None,
            referrer=request.referrer,
            browser=browser_key(create=True) if browser else browser_key(create=False),
        )
    return visitor


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter  # before any blueprint adds a rule using it
    app.register_error_handler(SecurityError, _untrusted_host)
    app.register_error_handler(AuraError, _aura_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_error)
    app.register_error_handler(ProgrammingError, _database_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    app.jinja_env.globals.update(asset=asset, htmx_file=HTMX_FILE, current_page=current_page)
    app.jinja_env.filters["timecode"] = timecode
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.filters["prose"] = prose
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def timecode(seconds: float | None) -> str:
    """1:02:03 or 2:03, the way players show a position."""
    total = int(seconds or 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def ago(delta: timedelta) -> str:
    """``less than an hour ago``, ``5 hours ago``, ``3 days ago``."""
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return "less than an hour ago"
    if hours < 48:
        return f"{hours} hours ago"
    return f"{hours // 24} days ago"


_LINK = re.compile(
    r"\[([^\]\n]{1,300})\]\((https?://[^\s()<>]{1,2000})\)|(https?://[^\s<>\"]{1,2000})"
)
_CODE = re.compile(r"`([^`\n]{1,300})`")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.{1,300}?)(?<=\S)\1")
_HEADING = re.compile(r"^#{1,6}[ \t]+", re.MULTILINE)
_TRAILING = ".,;:!?)'"


def _inline(raw: str) -> str:
    text = str(escape(raw))
    text = _CODE.sub(r"<code>\1</code>", text)
    text = _EMPHASIS.sub(r"<strong>\2</strong>", text)
    return text.replace("\n", "<br>\n")


def _paragraph(raw: str) -> str:
    out, position = [], 0
    for match in _LINK.finditer(raw):
        text, url, bare = match.groups()
        end = match.end()
        if bare:
            url = text = bare.rstrip(_TRAILING)
            end = match.start() + len(url)
        out.append(_inline(raw[position : match.start()]))
        out.append(f'<a href="{escape(url)}" rel="nofollow noopener noreferrer">{escape(text)}</a>')
        position = end
    out.append(_inline(raw[position:]))
    return "<p>" + "".join(out) + "</p>"


def prose(text: str | None) -> Markup:
    """Text a person typed (a video's description) as HTML: everything escaped, paragraphs on
    blank lines, line breaks kept, bare http(s) addresses as links, and the few Markdown marks
    people type anyway (`code`, **bold**, [text](address), # headings) not shown raw. Never
    the typed HTML itself."""
    raw = _HEADING.sub("", (text or "").replace("\r\n", "\n"))
    paragraphs = [part.strip() for part in re.split(r"\n[ \t]*\n", raw) if part.strip()]
    return Markup("\n".join(_paragraph(part) for part in paragraphs))  # noqa: S704 - escaped


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


def generated_svg(svg: str, version: str, shared: bool = True) -> Response:
    """A picture Aura drew (a poster, a thumbnail) whose URL carries ``version``: browsers may
    keep it for a year and revalidate by ETag. ``shared=False`` keeps it out of shared caches
    (only supervisors may see it). It can run nothing: its own CSP allows nothing."""
    response = make_response(svg)
    response.mimetype = "image/svg+xml"
    response.set_etag(version)
    response.cache_control.max_age = 31536000
    response.cache_control.immutable = True
    if shared:
        response.cache_control.public = True
    else:
        response.cache_control.private = True
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response.make_conditional(request)


def error_response(
    status: int, title: str, message: str, action: tuple[str, str] | None = None
) -> Response:
    """The error page, or for htmx a message swapped into the page's notice area.

    ``action`` is a (label, URL) the page offers as the way on, instead of the catalog.
    """
    if is_partial():
        response = render(
            "errors/error.html",
            "notice",
            status=status,
            code=status,
            title=title,
            message=message,
            action=action,
        )
        response.headers["HX-Retarget"] = "#notices"
        response.headers["HX-Reswap"] = "beforeend"
        return response
    return render(
        "errors/error.html", status=status, code=status, title=title, message=message, action=action
    )


def _untrusted_host(_error: SecurityError) -> Response:
    """A Host header not in AURA_TRUSTED_HOSTS: no page (its links would name that host)."""
    return Response(
        "This site does not answer to that host name.\n", status=400, mimetype="text/plain"
    )


def _first_page() -> str:
    """This page without its cursor: where a broken page link starts again."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "after"]
    query = urlencode(args)
    return request.path + (f"?{query}" if query else "")


def _aura_error(error: AuraError) -> Response:
    action = None
    if isinstance(error, BadCursor):
        action = ("Start again from the first page", _first_page())
    response = error_response(error.status, error.title, error.message, action)
    if isinstance(error, Throttled):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


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
    if _database_away(error, text):
        return _database_unavailable(error)
    return _unexpected_error(error)


def _database_away(error: Exception, text: str) -> bool:
    """The database did not answer: restarting, unreachable, or (SQLite) locked past the busy
    timeout. A passing state, not a defect: psycopg raises OperationalError only for these."""
    if isinstance(error, OperationalError) and error.connection_invalidated:
        return True
    if isinstance(getattr(error, "orig", None), psycopg.OperationalError):
        return True
    return "database is locked" in text


def _database_unavailable(error: Exception) -> Response:
    """503 with Retry-After while the database is away. The error page must not ask the
    database again: the visitor is shown as signed out for this one answer."""
    with contextlib.suppress(SQLAlchemyError):  # the connection is gone; the pool replaces it
        db.session.rollback()
    g._login_user = login_manager.anonymous_user()
    log.warning(
        "database unavailable on %s %s (request %s): %s",
        request.method,
        request.path,
        g.get("request_id"),
        str(error).splitlines()[0][:300],
    )
    response = error_response(
        503,
        "Aura is briefly unavailable",
        "The database is not answering just now. Try again in a few seconds.",
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def _unexpected_error(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.exception(
        "unhandled error on %s %s (request %s)", request.method, request.path, g.get("request_id")
    )
    return error_response(
        500, "Something went wrong", "An unexpected error happened. It has been logged."
    )


def readyz() -> Response:
    """For load balancers: the database (and Redis, when configured) answer."""
    report = health.ready()
    response = jsonify(report)
    response.status_code = 200 if report["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def healthz() -> Response:
    """Liveness and readiness: database reachable and migrations at head."""
    report = health.check()
    response = jsonify(report)
    response.status_code = 200 if report["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response
