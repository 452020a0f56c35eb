"""The home page's rows, rendered once and kept under the catalog version.

Rendering four rows of cards is most of the home page's cost, and nearly all of it is the same
for every visitor. So the rows are rendered once per catalog version (bumped by every hide or
show, TMDB list and score refresh, on every process: ``catalog.version``) and audience
(viewers, or supervisors who also see hidden films), and kept for a minute at most so that new
views reach the order soon. Each card is also rendered "on the watchlist". Per request only the
personal parts change: the visitor's CSRF token and page, and the cards of films on their
watchlist (their "on" versions). The cached HTML is kept cut at those places, so a request only
joins the pieces. Moderation is visible at once everywhere: a hidden film's rows are rendered
anew on the next request of every process.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

from flask import render_template
from markupsafe import Markup, escape

from aura.extensions import cache
from aura.navigation import current_page
from aura.security import csrf_token
from aura.services import catalog, library
from aura.services.visitors import Visitor

ROW_LIMIT = 18
SECONDS = 60  # how long rendered rows are kept in the shared cache
COPY_SECONDS = 10  # how long this process keeps its own copy of them
# Stand-ins for the per-request parts, written into the HTML unescaped: nothing a title or any
# other text can hold, since text is escaped and these are markup ("<").
CSRF = Markup("<aura:csrf>")
HERE = Markup("<aura:here>")
CARD = "<aura:card:{}>"
STAND_IN = re.compile(r"(<aura:(?:csrf|here|card:[0-9]+)>)")

Parts = tuple[str | int, ...]  # literal HTML, the CSRF or HERE stand-in, or a card's film id


@dataclass(frozen=True)
class Rows:
    """The rows cut at the personal parts."""

    everyone: Parts  # every row, no card on the watchlist
    parts: Parts  # the same with each card left as its film id (for a visitor with a watchlist)
    off: dict[int, Parts]  # each card, not on the watchlist
    on: dict[int, Parts]  # each card as it is for a visitor who has it on their watchlist


def _cut(html: str) -> Parts:
    """``html`` as literal pieces and the stand-ins between them (cards as their film ids)."""
    parts: list[str | int] = []
    for n, piece in enumerate(STAND_IN.split(html)):
        if n % 2 == 0:
            if piece:
                parts.append(piece)
        elif piece.startswith("<aura:card:"):
            parts.append(int(piece[len("<aura:card:") : -1]))
        else:
            parts.append(CSRF if piece == CSRF else HERE)
    return tuple(parts)


def _card(movie, on: bool) -> Parts:
    html = render_template(
        "catalog/_card.html",
        movie=movie,
        watchlisted={movie.id} if on else (),
        csrf=CSRF,
        here=HERE,
    )
    return _cut(html)


def _with_cards(parts: Parts, cards: dict[int, Parts]) -> Parts:
    flat: list[str | int] = []
    for part in parts:
        if type(part) is int:
            flat.extend(cards[part])
        else:
            flat.append(part)
    return tuple(flat)


def _render(include_hidden: bool) -> Rows:
    rows = catalog.home_rows(limit=ROW_LIMIT, include_hidden=include_hidden)
    films = {movie.id: movie for _spec, page in rows for movie in page.items}
    off = {movie_id: _card(movie, False) for movie_id, movie in films.items()}
    on = {movie_id: _card(movie, True) for movie_id, movie in films.items()}
    cards = {movie_id: CARD.format(movie_id) for movie_id in films}
    parts = _cut(render_template("catalog/_rows.html", rows=rows, cards=cards))
    return Rows(_with_cards(parts, off), parts, off, on)


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
    pieces = rows.everyone
    if visitor.user_id is not None and rows.off:
        marked = library.watchlist_marks(visitor.user_id, list(rows.off))
        if marked:
            cards = {**rows.off, **{movie_id: rows.on[movie_id] for movie_id in marked}}
            pieces = _with_cards(rows.parts, cards)
    fill = {CSRF: csrf_token(), HERE: str(escape(current_page()))}
    html = "".join([fill.get(piece, piece) for piece in pieces])  # type: ignore[misc]
    return Markup(html)  # noqa: S704 - rendered by Jinja with autoescape; the fills are escaped
