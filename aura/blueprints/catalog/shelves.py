"""The home page's rows, rendered once and kept under the catalog version.

Rendering four rows of cards is most of the home page's cost, and nearly all of it is the same
for every visitor. So each row's cards are rendered once per catalog version (bumped by every
hide or show, sync and score refresh, on every process: ``catalog.version``) and audience
(viewers, or supervisors who also see hidden films), and kept for a minute at most, so new
views reach the order soon. What is personal is added per request: the visitor's CSRF token
and page (placeholders in the cached cards) and, for films on their watchlist, cards rendered
afresh. Moderation is therefore visible at once everywhere: a hidden film's row is rendered
anew on the next request of every process.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Response, render_template, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from aura.extensions import cache, db
from aura.models import Movie
from aura.navigation import current_page
from aura.services import catalog, library
from aura.services.visitors import Visitor

ROW_LIMIT = 18
SECONDS = 60
# Stand-ins for the per-request parts of a cached card; never anything a film title can hold
# (titles are escaped, and these carry no markup characters).
CSRF = "aura-csrf-placeholder-7c1e"
HERE = "/aura-here-placeholder-7c1e"


@dataclass(frozen=True)
class Shelf:
    """One row: its name and title, each card's film id and HTML, and the next page's URL."""

    name: str
    title: str
    cards: tuple[tuple[int, str], ...]
    next_url: str | None


def _card(movie: Movie, on: bool, csrf: str, here: str) -> str:
    return render_template(
        "catalog/_card.html",
        movie=movie,
        watchlisted={movie.id} if on else (),
        csrf=csrf,
        here=here,
    )


def _render(include_hidden: bool) -> list[Shelf]:
    shelves = []
    for spec, page in catalog.home_rows(limit=ROW_LIMIT, include_hidden=include_hidden):
        cards = tuple((movie.id, _card(movie, False, CSRF, HERE)) for movie in page.items)
        next_url = page.next_cursor and url_for(
            "catalog.show_row", row=spec.name, after=page.next_cursor
        )
        shelves.append(Shelf(spec.name, spec.title, cards, next_url))
    return shelves


def for_visitor(visitor: Visitor) -> tuple[list[Shelf], dict[int, Markup]]:
    """The rows for this visitor, and the cards rendered for them alone (their watchlist)."""
    audience = "all" if visitor.sees_hidden else "viewers"
    key = f"home-rows:{catalog.version()}:{audience}"
    shelves = cache.get(key)
    if shelves is None:
        shelves = _render(visitor.sees_hidden)
        cache.set(key, shelves, timeout=SECONDS)
    own: dict[int, Markup] = {}
    if visitor.user_id is not None:
        ids = [movie_id for shelf in shelves for movie_id, _html in shelf.cards]
        marked = library.watchlist_marks(visitor.user_id, ids)
        if marked:
            csrf, here = generate_csrf(), current_page()
            for movie in db.session.scalars(sa.select(Movie).where(Movie.id.in_(marked))):
                own[movie.id] = Markup(_card(movie, True, csrf, here))  # noqa: S704 - autoescaped
    return shelves, own


def personalise(response: Response) -> Response:
    """Put this visitor's CSRF token and page where the cached cards hold stand-ins."""
    body = response.get_data(as_text=True)
    if CSRF in body or HERE in body:
        body = body.replace(CSRF, generate_csrf()).replace(HERE, str(escape(current_page())))
        response.set_data(body)
    return response
