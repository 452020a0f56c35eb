"""Browsing the catalog: home rows, row and genre pages, search, film pages, posters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, make_response, request, url_for
from flask_login import current_user

from aura.blueprints.catalog import bp
from aura.extensions import client_ip, db
from aura.htmx import render
from aura.models import Movie
from aura.services import activity, catalog, posters, scores, search

# Other parts of the site add to the film page without the catalog knowing them: each provider
# takes the film and returns extra template context (your rating, reviews, videos to play, ...).
MoviePageProvider = Callable[[Movie], dict[str, Any]]
movie_page_providers: list[MoviePageProvider] = []


def movie_page_provider(provider: MoviePageProvider) -> MoviePageProvider:
    movie_page_providers.append(provider)
    return provider


@bp.app_template_global()
def poster_url(movie: Movie) -> str:
    if movie.poster_path:
        return f"https://image.tmdb.org/t/p/w342{movie.poster_path}"
    return url_for("catalog.show_poster", movie_id=movie.id, v=posters.poster_version(movie))


@bp.get("/")
def show_home() -> Response:
    scores.refresh_trending()
    rows = catalog.home_rows(include_hidden=current_user.is_supervisor)
    return render("catalog/home_show.html", "rows", rows=rows, genres=catalog.all_genres())


@bp.get("/rows/<row>")
def show_row(row: str) -> Response:
    spec = catalog.get_row(row)
    page = catalog.row_page(
        row, after=request.args.get("after") or None, include_hidden=current_user.is_supervisor
    )
    return render(
        "catalog/movies_browse.html",
        "cards",
        heading=spec.title,
        blurb=spec.blurb,
        page=page,
        next_url=page.next_cursor and url_for("catalog.show_row", row=row, after=page.next_cursor),
    )


@bp.get("/genres/<slug>")
def show_genre(slug: str) -> Response:
    genre, page = catalog.genre_page(
        slug, after=request.args.get("after") or None, include_hidden=current_user.is_supervisor
    )
    return render(
        "catalog/movies_browse.html",
        "cards",
        heading=genre.name,
        blurb=f"{genre.name} films, most popular first.",
        page=page,
        next_url=page.next_cursor
        and url_for("catalog.show_genre", slug=slug, after=page.next_cursor),
    )


@bp.get("/search")
def search_movies() -> Response:
    result = search.search_movies(
        request.args.get("q", ""), include_hidden=current_user.is_supervisor
    )
    return render("catalog/movies_search.html", "results", result=result)


@bp.get("/movies/<int:movie_id>")
def show_movie(movie_id: int) -> Response:
    movie = catalog.get_movie(movie_id, include_hidden=current_user.is_supervisor)
    activity.record_view(
        kind="detail",
        movie_id=movie.id,
        user_id=current_user.id if current_user.is_authenticated else None,
        client_ip=client_ip(),
        user_agent=request.user_agent.string,
        referrer=request.referrer,
    )
    scores.movie_viewed(movie.id)
    db.session.commit()
    context: dict[str, Any] = {}
    for provider in movie_page_providers:
        context.update(provider(movie))
    return render("catalog/movie_show.html", movie=movie, **context)


@bp.get("/posters/<int:movie_id>.svg")
def show_poster(movie_id: int) -> Response:
    movie = catalog.get_movie(movie_id, include_hidden=current_user.is_supervisor)
    response = make_response(posters.render_svg(movie))
    response.mimetype = "image/svg+xml"
    response.set_etag(posters.poster_version(movie))
    # The URL carries the poster's version, so browsers may keep it for a year.
    response.cache_control.public = True
    response.cache_control.max_age = 31536000
    response.cache_control.immutable = True
    if movie.hidden:  # only supervisors get here: keep it out of shared caches
        response.cache_control.public = False
        response.cache_control.private = True
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response.make_conditional(request)
