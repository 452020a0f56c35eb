"""Response headers that hold for every request (the CSP and the other browser protections),
and the CSRF token pages carry."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from functools import cache
from typing import Any

from flask import Flask, Response, current_app, g, session
from flask_wtf.csrf import generate_csrf

from aura.clients import tmdb
from aura.services.storage import s3

TRAILER_FRAMES = "https://www.youtube-nocookie.com"
TRAILER_STILLS = "https://i.ytimg.com"


def media_origins(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Where the player fetches video from besides this site: the bucket's origin, only when
    media is in S3 and the browser is redirected there (not with x-accel, where nginx
    proxies the bucket under this site's own origin)."""
    if config.get("MEDIA_STORAGE") != "s3" or config.get("STREAM_OFFLOAD") == "x-accel":
        return ()
    return (
        s3.url_origin(
            config.get("S3_ENDPOINT"),
            config.get("S3_BUCKET") or "",
            config.get("S3_REGION") or "us-east-1",
            config.get("S3_ADDRESSING") or "path",
        ),
    )


def content_security_policy(config: Mapping[str, Any]) -> str:
    """The CSP for this site's settings: outside images and trailer frames are allowed only
    when TMDB is configured (only from TMDB's image hosts and YouTube's no-cookie player),
    and video from the bucket only when media is in one."""
    hosts = tuple(config.get("TMDB_IMAGE_HOSTS") or ())
    return _policy(tmdb.is_configured(config), hosts, media_origins(config))


@cache
def _policy(with_tmdb: bool, image_hosts: tuple[str, ...], media: tuple[str, ...] = ()) -> str:
    images = ["'self'", "data:"]
    frames = ["'none'"]
    if with_tmdb:
        images += [f"https://{host}" for host in image_hosts]
        images.append(TRAILER_STILLS)
        frames = [TRAILER_FRAMES]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {' '.join(images)}",
            "media-src " + " ".join(("'self'", "blob:", *media)),
            f"frame-src {' '.join(frames)}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def init_app(app: Flask) -> None:
    app.after_request(_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token  # in place of Flask-WTF's generate_csrf


# -- the CSRF token ------------------------------------------------------------------------------

# Signing a token (JSON, zlib, HMAC: Flask-WTF's timed serializer) costs more than joining the
# home page's rows. A browser's token is signed once a minute and reused meanwhile: it is valid
# for WTF_CSRF_TIME_LIMIT (an hour) from its signing, so it is still good for 59 minutes when
# served, and it is only ever given to the session whose token it signs.
SIGNED_FOR_SECONDS = 60
_SIGNED_LIMIT = 10_000  # tokens kept at most; expired ones are dropped when it is reached
_signed: dict[tuple[str, str], tuple[float, str]] = {}
_signed_lock = threading.Lock()


def csrf_token() -> str:
    """This session's CSRF token, signed at most a minute ago (pages, forms and htmx)."""
    field = current_app.config["WTF_CSRF_FIELD_NAME"]
    if field in g:
        return g.get(field)
    raw = session.get(field)
    now = time.monotonic()
    if isinstance(raw, str):
        found = _signed.get((current_app.secret_key, raw))
        if found is not None and found[0] > now:
            setattr(g, field, found[1])
            return found[1]
    token = generate_csrf()
    with _signed_lock:
        if len(_signed) >= _SIGNED_LIMIT:
            for key in [key for key, (until, _token) in _signed.items() if until <= now]:
                del _signed[key]
            if len(_signed) >= _SIGNED_LIMIT:
                _signed.clear()
        _signed[(current_app.secret_key, session[field])] = (now + SIGNED_FOR_SECONDS, token)
    return token


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(current_app.config))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["HSTS"]:  # behind TLS only: browsers then refuse plain http for a year
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
        response.vary.add("Cookie")
        # Pages carry a CSRF token and personal state: never from a shared cache.
        headers.setdefault("Cache-Control", "private, no-cache")
    return response
