"""Where to send a person next: safe ``next=`` targets and the page they are looking at."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import request
from werkzeug.exceptions import HTTPException

from aura.htmx import is_htmx

MAX_NEXT = 2048


def safe_next(target: str | None) -> str | None:
    """A same-site path to go back to, or None. Only ever a path on this site: ``//evil``,
    ``/\\evil``, ``javascript:`` and any other host are refused."""
    if not isinstance(target, str) or not target or len(target) > MAX_NEXT:
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


def back(fallback: str) -> str:
    """Where a plain form goes after a change: its ``next`` field, the page it was sent from,
    else ``fallback``."""
    try:
        posted = request.form.get("next")
    except HTTPException:
        posted = None
    return safe_next(posted) or safe_next(request.referrer) or fallback
