"""The personal library: watchlist toggles and ratings (inline, or plain forms), and /library."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, g, redirect, request, url_for
from flask_login import current_user, login_required

from aura.blueprints.auth.navigation import current_page, safe_next
from aura.blueprints.catalog.views import movie_page_provider
from aura.blueprints.library import bp
from aura.errors import Invalid
from aura.htmx import is_partial, render
from aura.models import Movie
from aura.services import catalog, library, playback

SHOW = ("watchlist", "ratings")


def _back(movie_id: int | None = None) -> str:
    """Where a plain form goes after a change: the page it was sent from."""
    fallback = url_for("catalog.show_movie", movie_id=movie_id) if movie_id else None
    return (
        safe_next(request.form.get("next"))
        or safe_next(request.referrer)
        or fallback
        or url_for("library.show_library")
    )


@bp.app_context_processor
def _library_context() -> dict[str, Any]:
    """Cards everywhere mark the films on the viewer's watchlist: one query per request."""
    if "watchlist_ids" not in g:
        g.watchlist_ids = (
            library.watchlist_ids(current_user.id) if current_user.is_authenticated else frozenset()
        )
    return {"watchlist_ids": g.watchlist_ids, "here": current_page()}


@movie_page_provider
def _film_page(movie: Movie) -> dict[str, Any]:
    signed_in = current_user.is_authenticated
    return {
        "my_rating": library.my_rating(current_user.id, movie.id) if signed_in else None,
        "reviews": library.reviews_page(
            movie.id, exclude_user_id=current_user.id if signed_in else None
        ),
    }


# -- watchlist ------------------------------------------------------------------------------------


@bp.post("/watchlist/<int:movie_id>")
@login_required
def toggle_watchlist(movie_id: int) -> Response:
    wanted = {"1": True, "0": False}.get(request.form.get("on", ""))
    on = library.set_watchlist(
        current_user.id, movie_id, on=wanted, include_hidden=current_user.is_supervisor
    )
    if is_partial():
        movie = catalog.get_movie(movie_id, include_hidden=current_user.is_supervisor)
        return render("library/watchlist_toggle.html", "toggle", movie=movie, watch_state=on)
    flash("Added to your watchlist." if on else "Removed from your watchlist.", "success")
    return redirect(_back(movie_id), 303)


# -- ratings --------------------------------------------------------------------------------------


@bp.post("/ratings/<int:movie_id>")
@login_required
def rate_movie(movie_id: int) -> Response:
    include_hidden = current_user.is_supervisor
    try:
        rating = library.rate(
            current_user.id,
            movie_id,
            request.form.get("score"),
            request.form.get("review"),
            include_hidden=include_hidden,
        )
    except Invalid as invalid:
        movie = catalog.get_movie(movie_id, include_hidden=include_hidden)
        return _rating_response(
            movie,
            library.my_rating(current_user.id, movie_id),
            status=422,
            error=invalid.message,
            draft={"score": request.form.get("score"), "review": request.form.get("review")},
        )
    if not is_partial():
        flash("Your rating is saved.", "success")
        return redirect(_back(movie_id), 303)
    return _rating_response(rating.movie, rating, saved="Saved.")


@bp.post("/ratings/<int:movie_id>/delete")
@login_required
def delete_rating(movie_id: int) -> Response:
    include_hidden = current_user.is_supervisor
    library.unrate(current_user.id, movie_id, include_hidden=include_hidden)
    if not is_partial():
        flash("Your rating is removed.", "info")
        return redirect(_back(movie_id), 303)
    movie = catalog.get_movie(movie_id, include_hidden=include_hidden)
    return _rating_response(movie, None, saved="Rating removed.")


def _rating_response(movie: Movie, rating, status: int = 200, **extra) -> Response:
    """The rating panel (with the film's Aura score swapped in beside it) for htmx; the rating
    page with the form and its message for a plain form."""
    return render(
        "library/rating_edit.html",
        "rating",
        status=status,
        movie=movie,
        my_rating=rating,
        oob=is_partial(),
        **extra,
    )


# -- reviews and the library page -----------------------------------------------------------------


@bp.get("/reviews/<int:movie_id>")
def list_reviews(movie_id: int) -> Response:
    movie = catalog.get_movie(movie_id, include_hidden=current_user.is_supervisor)
    reviews = library.reviews_page(
        movie.id,
        after=request.args.get("after") or None,
        exclude_user_id=current_user.id if current_user.is_authenticated else None,
    )
    return render("library/reviews_list.html", "review_items", movie=movie, reviews=reviews)


@bp.get("", strict_slashes=False)
@login_required
def show_library() -> Response:
    show = request.args.get("show", "watchlist")
    if show not in SHOW:
        raise Invalid("The library shows your watchlist or your ratings.")
    after = request.args.get("after") or None
    include_hidden = current_user.is_supervisor
    context: dict[str, Any] = {"show": show, "sorts": library.WATCH_SORTS}
    if show == "watchlist":
        sort = library.get_watch_sort(request.args.get("sort")).name
        page = library.watchlist_page(
            current_user.id, sort=sort, after=after, include_hidden=include_hidden
        )
        context.update(
            sort=sort,
            page=page,
            next_url=page.next_cursor
            and url_for("library.show_library", sort=sort, after=page.next_cursor),
            continue_watching=[]
            if after
            else playback.continue_watching(current_user.id, include_hidden=include_hidden),
        )
        block = "watchlist_cards"
    else:
        page = library.ratings_page(current_user.id, after=after, include_hidden=include_hidden)
        context.update(
            page=page,
            next_url=page.next_cursor
            and url_for("library.show_library", show="ratings", after=page.next_cursor),
        )
        block = "rating_items"
    return render("library/library_show.html", block, **context)
