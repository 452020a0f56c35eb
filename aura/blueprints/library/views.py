"""The personal library: watchlist toggles and ratings (inline, or plain forms), and /library."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_login import current_user, login_required

from aura.blueprints.library.forms import RatingForm
from aura.errors import Invalid
from aura.forms import show_errors
from aura.htmx import is_partial, render
from aura.models import Movie, Rating
from aura.navigation import back
from aura.services import catalog, library, pages
from aura.web import current_visitor

bp = Blueprint("library", __name__)


def _back_to_film(movie_id: int) -> str:
    return back(url_for("catalog.show_movie", movie_id=movie_id))


# -- watchlist ------------------------------------------------------------------------------------


@bp.post("/watchlist/<id:movie_id>")
@login_required
def toggle_watchlist(movie_id: int) -> Response:
    wanted = {"1": True, "0": False}.get(request.form.get("on", ""))
    visitor = current_visitor()
    movie, on = library.set_watchlist(
        current_user.id, movie_id, on=wanted, include_hidden=visitor.sees_hidden
    )
    if is_partial():
        return render("library/watchlist_toggle.html", "toggle", movie=movie, on=on)
    flash("Added to your watchlist." if on else "Removed from your watchlist.", "success")
    return redirect(_back_to_film(movie_id), 303)


# -- ratings --------------------------------------------------------------------------------------


@bp.post("/ratings/<id:movie_id>")
@login_required
def rate_movie(movie_id: int) -> Response:
    include_hidden = current_visitor().sees_hidden
    form = RatingForm()
    if form.validate():
        try:
            rating = library.rate(
                current_user.id,
                movie_id,
                form.score.data,
                form.review.data,
                include_hidden=include_hidden,
            )
        except Invalid as invalid:
            show_errors(form, invalid)
        else:
            if not is_partial():
                flash("Your rating is saved.", "success")
                return redirect(_back_to_film(movie_id), 303)
            return _rating_response(rating.movie, rating, saved="Saved.")
    movie = catalog.get_movie(movie_id, include_hidden=include_hidden)
    return _rating_response(
        movie, library.my_rating(current_user.id, movie_id), status=422, form=form
    )


@bp.post("/ratings/<id:movie_id>/delete")
@login_required
def delete_rating(movie_id: int) -> Response:
    movie = library.unrate(current_user.id, movie_id, include_hidden=current_visitor().sees_hidden)
    if not is_partial():
        flash("Your rating is removed.", "info")
        return redirect(_back_to_film(movie_id), 303)
    return _rating_response(movie, None, saved="Rating removed.")


def _rating_response(movie: Movie, rating: Rating | None, status: int = 200, **extra) -> Response:
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


@bp.get("/reviews/<id:movie_id>")
def list_reviews(movie_id: int) -> Response:
    found = pages.reviews(movie_id, request.args.get("after") or None, current_visitor())
    return render(
        "library/reviews_list.html", "review_items", movie=found.movie, reviews=found.reviews
    )


@bp.get("", strict_slashes=False)
@login_required
def show_library() -> Response:
    shelf = pages.personal_library(
        current_user.id,
        request.args.get("show", "watchlist"),
        request.args.get("sort"),
        request.args.get("after") or None,
        current_visitor(),
    )
    next_cursor = shelf.page.next_cursor
    if shelf.show == "watchlist":
        next_url = next_cursor and url_for(
            "library.show_library", sort=shelf.sort, after=next_cursor
        )
        block = "watchlist_cards"
    else:
        next_url = next_cursor and url_for(
            "library.show_library", show="ratings", after=next_cursor
        )
        block = "rating_items"
    return render(
        "library/library_show.html",
        block,
        shelf=shelf,
        sorts=library.WATCH_SORTS,
        next_url=next_url,
    )
