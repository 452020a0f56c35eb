"""The personal library: watchlist toggles, ratings (inline, in the library, or plain forms),
the diary, the action a visitor was doing when sent to sign in, and /library."""

from __future__ import annotations

from flask import Blueprint, Response, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from aura import sessions
from aura.blueprints.library.forms import DiaryForm, RatingForm
from aura.errors import Invalid
from aura.forms import show_errors
from aura.htmx import hx_redirect, is_partial, render
from aura.models import Movie, Rating
from aura.navigation import back
from aura.services import catalog, library, pages, values
from aura.web import current_visitor

bp = Blueprint("library", __name__)


def _back_to_film(movie_id: int) -> str:
    return back(url_for("catalog.show_movie", movie_id=movie_id))


def _removed() -> Response:
    """What an htmx remove button gets: nothing, so the item it was on is swapped away."""
    response = make_response("", 200)
    response.vary.add("HX-Request")
    return response


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


def _place() -> str:
    """Where the rating form is: on the film page, or edited in place in the library."""
    return "library" if request.values.get("place") == "library" else "film"


@bp.get("/ratings/<id:movie_id>")
@login_required
def edit_rating(movie_id: int) -> Response:
    """The rating form alone: the library's Edit button swaps it in place of the item."""
    movie = catalog.get_movie(movie_id, include_hidden=current_visitor().sees_hidden)
    return render(
        "library/rating_edit.html",
        "rating",
        movie=movie,
        my_rating=library.my_rating(current_user.id, movie.id),
        place=_place(),
        oob=False,
    )


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
            if _place() == "library":
                return render("library/rating_item.html", "rating_item", rating=rating)
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
    if _place() == "library":
        return _removed()
    return _rating_response(movie, None, saved="Rating removed.")


def _rating_response(movie: Movie, rating: Rating | None, status: int = 200, **extra) -> Response:
    """The rating panel (with the film's Aura score swapped in beside it on the film page) for
    htmx; the rating page with the form and its message for a plain form."""
    place = _place()
    return render(
        "library/rating_edit.html",
        "rating",
        status=status,
        movie=movie,
        my_rating=rating,
        place=place,
        oob=is_partial() and place == "film",
        **extra,
    )


# -- the diary ------------------------------------------------------------------------------------


def _diary_response(movie: Movie, form: DiaryForm, status: int = 200, saved: str = "") -> Response:
    return render(
        "library/diary_log.html",
        "diary_log",
        status=status,
        movie=movie,
        form=form,
        days=library.days_watched(current_user.id, movie.id),
        today=library.latest_day(),
        saved=saved,
    )


@bp.post("/diary")
@login_required
def log_watch() -> Response:
    include_hidden = current_visitor().sees_hidden
    form = DiaryForm()
    movie_id = values.whole_number(
        form.movie.data, low=1, high=values.MAX_ID, message="Choose a film to log."
    )
    movie = catalog.get_movie(movie_id, include_hidden=include_hidden)
    if form.validate():
        try:
            day = library.parse_watch_date(form.watched_on.data)
        except Invalid as invalid:
            show_errors(form, invalid)
        else:
            entry, new = library.log_watch(
                current_user.id, movie.id, day, include_hidden=include_hidden
            )
            logged = entry.watched_on.strftime("%-d %B %Y")
            saved = f"Logged on {logged}." if new else f"Already in your diary on {logged}."
            if not is_partial():
                flash(saved, "success")
                return redirect(_back_to_film(movie.id), 303)
            return _diary_response(movie, DiaryForm(formdata=None), saved=saved)
    return _diary_response(movie, form, status=422)


@bp.post("/diary/<id:entry_id>/delete")
@login_required
def delete_diary_entry(entry_id: int) -> Response:
    movie = library.remove_diary_entry(current_user.id, entry_id)
    if is_partial():
        return _removed()
    flash(f"Removed {movie.title} from your diary.", "info")
    return redirect(back(url_for("library.show_library", show="diary")), 303)


# -- after signing in -----------------------------------------------------------------------------


@bp.post("/after-sign-in")
@login_required
def finish_after_sign_in() -> Response:
    """Do what the visitor was doing when they were sent to sign in (once), then show the film.

    The film page posts here by itself (htmx, on load) or with its button (no JavaScript), so
    nothing changes on a GET."""
    action = sessions.take_after_sign_in()
    if action is None:
        flash("Nothing was waiting to be done: it was done already or took too long.", "info")
        return hx_redirect(url_for("catalog.show_home"))
    include_hidden = current_visitor().sees_hidden
    if action.kind == "watchlist":
        movie, _on = library.set_watchlist(
            current_user.id, action.movie_id, on=True, include_hidden=include_hidden
        )
        flash(f"Added {movie.title} to your watchlist.", "success")
    else:
        earlier = library.my_rating(current_user.id, action.movie_id)
        rating = library.rate(
            current_user.id,
            action.movie_id,
            action.value,
            earlier.review if earlier else None,
            include_hidden=include_hidden,
        )
        movie = rating.movie
        flash(f"You rated {movie.title} {rating.score}/10.", "success")
    return hx_redirect(url_for("catalog.show_movie", movie_id=movie.id))


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
    cursor = shelf.diary.next_cursor if shelf.diary else shelf.page.next_cursor
    tab = {} if shelf.show == "watchlist" else {"show": shelf.show}
    if shelf.sort:
        tab["sort"] = shelf.sort
    block = "watchlist_cards"
    if shelf.show == "ratings":
        block = "rating_items"
    elif shelf.show == "diary":
        block = "diary_items"
    return render(
        "library/library_show.html",
        block,
        shelf=shelf,
        sorts=library.WATCH_SORTS,
        rating_sorts=library.RATING_SORTS,
        next_url=cursor and url_for("library.show_library", after=cursor, **tab),
    )
