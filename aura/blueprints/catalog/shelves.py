"""The home page's rows, rendered once and kept under the catalog version.

Rendering four rows of cards is most of the home page's cost, and nearly all of it is the same
for every visitor. So the rows are rendered once per catalog version (bumped by every hide or
show, TMDB list and score refresh, on every process: ``catalog.version``) and audience
(viewers, or supervisors who also see hidden films), and kept for a minute at most so that new
views reach the order soon. Each card is also rendered "on the watchlist". Per request only the
personal parts change: the visitor's CSRF token and page (stand-ins in the cached HTML), and
the cards of films on their watchlist (swapped for their "on" versions). Moderation is visible
at once everywhere: a hidden film's rows are rendered anew on the next request of every process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import render_template
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from aura.extensions import cache
from aura.navigation import current_page
from aura.services import catalog, library
from aura.services.visitors import Visitor

ROW_LIMIT = 18
SECONDS = 60  # how long rendered rows are kept in the shared cache
COPY_SECONDS = 10  # how long this process keeps its own copy of them
# Stand-ins for the per-request parts of the cached HTML; nothing a title can hold (titles are
# escaped, and these carry no markup characters).
CSRF = "aura-csrf-placeholder-7c1e"
HERE = "/aura-here-placeholder-7c1e"


@dataclass(frozen=True)
class Rows:
    html: str  # every row, with stand-ins for the personal parts
    off: dict[int, str]  # each card as it appears in ``html`` (not on the watchlist)
    on: dict[int, str]  # each card as it is for a visitor who has it on their watchlist


def _card(movie, on: bool) -> str:
    return render_template(
        "catalog/_card.html",
        movie=movie,
        watchlisted={movie.id} if on else (),
        csrf=CSRF,
        here=HERE,
    )


def _render(include_hidden: bool) -> Rows:
    rows = catalog.home_rows(limit=ROW_LIMIT, include_hidden=include_hidden)
    films = {movie.id: movie for _spec, page in rows for movie in page.items}
    off = {movie_id: _card(movie, False) for movie_id, movie in films.items()}
    on = {movie_id: _card(movie, True) for movie_id, movie in films.items()}
    html = render_template("catalog/_rows.html", rows=rows, cards=off)
    return Rows(html, off, on)


# The rows this process read from the cache last, by key. The key names the catalog version,
# so a copy here is never staler than the shared one; it saves unpickling the rows per request.
_copies: dict[str, tuple[float, Rows]] = {}
_copies_lock = threading.Lock()


def _rows(key: str, include_hidden: bool) -> Rows:
    now = time.monotonic()
    copy = _copies.get(key)
    if copy is not None and copy[0] > now:
        return copy[1]
    rows = cache.get(key)
    if rows is None:
        rows = _render(include_hidden)
        cache.set(key, rows, timeout=SECONDS)
    with _copies_lock:
        for stale in [k for k, (expires, _rows) in _copies.items() if expires <= now]:
            del _copies[stale]
        _copies[key] = (now + COPY_SECONDS, rows)
    return rows


def forget_copies() -> None:
    """Drop this process's copies (the shared cache was cleared)."""
    with _copies_lock:
        _copies.clear()


def for_visitor(visitor: Visitor) -> Markup:
    """The rows as this visitor sees them: their watchlist marked, their token and page in."""
    audience = "all" if visitor.sees_hidden else "viewers"
    rows = _rows(f"home-rows:{catalog.version()}:{audience}", visitor.sees_hidden)
    html = rows.html
    if visitor.user_id is not None and rows.off:
        for movie_id in library.watchlist_marks(visitor.user_id, list(rows.off)):
            html = html.replace(rows.off[movie_id], rows.on[movie_id])
    html = html.replace(CSRF, generate_csrf()).replace(HERE, str(escape(current_page())))
    return Markup(html)  # noqa: S704 - rendered by Jinja with autoescape; the swaps are escaped
