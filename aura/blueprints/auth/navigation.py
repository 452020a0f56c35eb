"""Where to send a person next, and the signed-in state carried by the session cookie."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

from flask import g, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException

from aura.extensions import client_ip
from aura.htmx import is_htmx
from aura.models import User
from aura.services import accounts

MAX_NEXT = 2048


def safe_next(target: str | None) -> str | None:
    """A same-site path to go back to, or None. Only ever a path on this site: ``//evil``,
    ``/\\evil``, ``javascript:`` and any other host are refused."""
    if not target or len(target) > MAX_NEXT:
        return None
    # Browsers treat a backslash as a slash and drop tabs and newlines: refuse them outright.
    if "\\" in target or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    try:
        parts = urlsplit(target)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return None
        target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    if not target.startswith("/") or target.startswith("//"):
        return None
    return target


def current_page() -> str:
    """The page the person is looking at: for htmx, the page that sent the request."""
    if is_htmx():
        return safe_next(request.headers.get("HX-Current-URL")) or "/"
    if request.method == "GET":
        return safe_next(request.full_path.rstrip("?")) or "/"
    try:
        posted = request.form.get("next")
    except HTTPException:  # an oversized or unreadable body: there is no form to read
        posted = None
    return safe_next(posted) or safe_next(request.referrer) or "/"


def back_to(default: str | None = None) -> str:
    """Where a form should return to: its ``next`` field, else the referring page."""
    return (
        safe_next(request.values.get("next"))
        or safe_next(request.referrer)
        or default
        or url_for("catalog.show_home")
    )


def sign_in(user: User, second_factor: bool = False) -> None:
    """Start a signed-in session: the old session (and its CSRF token) is thrown away."""
    token = accounts.start_session(
        user,
        client_ip(),
        request.user_agent.string,
        second_factor=second_factor,
        replaces=session.get("sid"),
    )
    session.clear()
    g.pop("csrf_token", None)  # a token made earlier in this request belongs to the old session
    login_user(user, fresh=True)
    session["sid"] = token
    session["seen"] = int(time.time())
    session["mfa"] = second_factor
    session.permanent = True  # the cookie lives PERMANENT_SESSION_LIFETIME; the server enforces it


def sign_out() -> None:
    user_id = current_user.id if current_user.is_authenticated else None
    accounts.end_session(user_id, session.get("sid"), client_ip())
    logout_user()
    session.clear()
    g.pop("csrf_token", None)
