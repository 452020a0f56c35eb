"""Browsing the catalog: home rows, row and genre pages, search, film pages, posters."""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from aura.htmx import render
from aura.models import Movie
from aura.services import catalog, pages, posters
from aura.web import current_visitor, generated_svg

bp = Blueprint("catalog", __name__)


@bp.app_template_global()
def poster_url(movie: Movie) -> str:
    if movie.poster_path:
        return f"https://image.tmdb.org/t/p/w342{movie.poster_path}"
    return url_for("catalog.show_poster", movie_id=movie.id, v=posters.poster_version(movie))


@bp.get("/")
def show_home() -> Response:
    return render("catalog/home_show.html", "rows", home=pages.home(current_visitor()))


def _browse(browse: pages.BrowsePage, endpoint: str, **args: str) -> Response:
    """A row or genre page; its next page continues at the same URL with ``after=``."""
    cursor = browse.page.next_cursor
    return render(
        "catalog/movies_browse.html",
        "cards",
        browse=browse,
        next_url=cursor and url_for(endpoint, after=cursor, **args),
    )


@bp.get("/rows/<row>")
def show_row(row: str) -> Response:
    browse = pages.row(row, request.args.get("after") or None, current_visitor())
    return _browse(browse, "catalog.show_row", row=row)


@bp.get("/genres/<slug>")
def show_genre(slug: str) -> Response:
    browse = pages.genre(slug, request.args.get("after") or None, current_visitor())
    return _browse(browse, "catalog.show_genre", slug=slug)


@bp.get("/search")
def search_movies() -> Response:
    found = pages.search_films(request.args.get("q", ""), current_visitor())
    return render("catalog/movies_search.html", "results", found=found)


@bp.get("/movies/<id:movie_id>")
def show_movie(movie_id: int) -> Response:
    return render("catalog/movie_show.html", film=pages.film(movie_id, current_visitor()))


@bp.get("/posters/<id:movie_id>.svg")
def show_poster(movie_id: int) -> Response:
    movie = catalog.get_movie(movie_id, include_hidden=current_visitor().sees_hidden)
    # A hidden film's poster reaches only supervisors: keep it out of shared caches.
    return generated_svg(
        posters.render_svg(movie), posters.poster_version(movie), shared=not movie.hidden
    )
