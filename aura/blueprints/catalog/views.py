"""Browsing the catalog: home rows, row and genre pages, search, film pages, posters."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, request, url_for

from aura import sessions
from aura.blueprints.catalog import shelves
from aura.clients import tmdb_images
from aura.htmx import is_partial, render
from aura.models import Movie
from aura.services import catalog, pages, posters
from aura.web import current_visitor, generated_svg

bp = Blueprint("catalog", __name__)


@bp.app_template_global()
def poster_url(movie: Movie) -> str:
    """TMDB's poster when TMDB is configured and the film has one, else Aura's own."""
    return tmdb_images.image_url(movie.poster_path) or url_for(
        "catalog.show_poster", movie_id=movie.id, v=posters.poster_version(movie)
    )


@bp.app_template_global()
def backdrop_url(movie: Movie) -> str | None:
    return tmdb_images.image_url(movie.backdrop_path, "w1280")


@bp.get("/")
def show_home() -> Response:
    visitor = current_visitor()
    rows = shelves.for_visitor(visitor)
    if is_partial():  # only the rows: none of the rest of the page is looked up
        return render(
            "catalog/home_show.html", "rows", home=None, rows=rows, notice=pages.rows_notice()
        )
    home = pages.home(visitor)
    return render("catalog/home_show.html", "rows", home=home, rows=rows, notice=home.notice)


def _sent_from(path: str) -> bool:
    """Whether this htmx request came from the page at ``path`` (not from another page that
    borrows its fragments, as the home rows borrow a row's)."""
    return urlsplit(request.headers.get("HX-Current-URL", "")).path == path


def _browse(browse: pages.BrowsePage, endpoint: str, **args: str) -> Response:
    """A row or genre page; its next page continues at the same URL with ``after=``.

    Back and forward must come back to the same cards at the same place, but htmx keeps no
    snapshot of pages (``historyCacheSize`` is 0: a copy of a personal page in localStorage
    would outlive signing out). So each page that infinite scroll adds replaces the address
    with ``until=<the last card's cursor>``; opening that address renders every card up to it
    (at most ``catalog.UNTIL_LIMIT``), and app.js puts the scroll position back.
    """
    cursor = browse.page.next_cursor
    response = render(
        "catalog/movies_browse.html",
        "cards",
        browse=browse,
        next_url=cursor and url_for(endpoint, after=cursor, page=browse.number + 1, **args),
        first_url=url_for(endpoint, **args),
    )
    here = url_for(endpoint, **args)
    if is_partial() and browse.page.last_cursor and _sent_from(here):
        response.headers["HX-Replace-Url"] = url_for(
            endpoint, until=browse.page.last_cursor, **args
        )
    return response


def _browse_args() -> dict[str, str | None]:
    return {
        "after": request.args.get("after") or None,
        "until": request.args.get("until") or None,
        "number": request.args.get("page"),
    }


@bp.get("/rows/<row>")
def show_row(row: str) -> Response:
    args = _browse_args()
    browse = pages.row(
        row, args["after"], current_visitor(), until=args["until"], number=args["number"]
    )
    return _browse(browse, "catalog.show_row", row=row)


@bp.get("/genres/<slug>")
def show_genre(slug: str) -> Response:
    args = _browse_args()
    browse = pages.genre(
        slug, args["after"], current_visitor(), until=args["until"], number=args["number"]
    )
    return _browse(browse, "catalog.show_genre", slug=slug)


@bp.get("/search")
def search_movies() -> Response:
    """The search page. Typing in the search page's box swaps the results; typing in the
    header's box on any other page swaps the whole main area for the search page."""
    found = pages.search_films(request.args.get("q", ""), current_visitor())
    from_header = request.headers.get("HX-Target") == "main"
    block = "search_page" if from_header else "results"
    response = render("catalog/movies_search.html", block, found=found)
    if is_partial():
        # One history entry per search: the first swap from another page adds one, typing
        # on the search page only replaces it.
        address = url_for("catalog.search_movies", q=found.result.query or None)
        on_search = _sent_from(url_for("catalog.search_movies"))
        response.headers["HX-Replace-Url" if on_search else "HX-Push-Url"] = address
    return response


@bp.get("/movies/<id:movie_id>")
def show_movie(movie_id: int) -> Response:
    return render(
        "catalog/movie_show.html",
        film=pages.film(movie_id, current_visitor()),
        after_sign_in=sessions.after_sign_in(movie_id),
    )


@bp.get("/posters/<id:movie_id>.svg")
def show_poster(movie_id: int) -> Response:
    movie = catalog.get_movie(movie_id, include_hidden=current_visitor().sees_hidden)
    # A hidden film's poster reaches only supervisors: keep it out of shared caches.
    return generated_svg(
        posters.render_svg(movie), posters.poster_version(movie), shared=not movie.hidden
    )
