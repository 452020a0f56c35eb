"""Response headers and session rules that hold for every request."""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, session
from flask_login import current_user, logout_user

from aura.extensions import db, login_manager
from aura.models import User
from aura.models.user import Anonymous

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https://image.tmdb.org https://i.ytimg.com",
        "media-src 'self' blob:",
        "frame-src https://www.youtube-nocookie.com https://www.youtube.com",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_app(app: Flask) -> None:
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.before_request(_expire_idle_session)
    app.after_request(_security_headers)


@login_manager.user_loader
def load_user(login_id: str) -> User | None:
    """Load the user named by ``id:session_version``; an old version means signed out."""
    user_id, _, version = login_id.partition(":")
    if not (user_id.isdecimal() and version.isdecimal()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def _expire_idle_session() -> None:
    if not current_user.is_authenticated:
        return
    now = int(time.time())
    idle_limit = current_app.config["SESSION_IDLE_MINUTES"] * 60
    last_seen = session.get("seen", now)
    if now - last_seen > idle_limit:
        logout_user()
        session.clear()
        return
    if now - last_seen > 60:  # rewrite the cookie at most once a minute
        session["seen"] = now


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
        response.vary.add("Cookie")
        # Pages carry a CSRF token and personal state: never from a shared cache.
        headers.setdefault("Cache-Control", "private, no-cache")
    return response
