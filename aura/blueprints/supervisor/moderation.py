"""Moderation: the films and reviews tables with live hide/show toggles and bulk actions."""

from __future__ import annotations

from flask import Blueprint, Response, flash, request, url_for

from aura.blueprints.supervisor.forms import VisibilityForm
from aura.errors import Invalid
from aura.htmx import hx_redirect, is_partial, render
from aura.navigation import back
from aura.services import moderation, values
from aura.web import current_visitor


def _wanted(form: VisibilityForm) -> bool:
    hidden = {"1": True, "0": False}.get(form.hidden.data or "")
    if hidden is None:
        raise Invalid("Say whether to hide it (1) or show it again (0).")
    return hidden


def _next_url(endpoint: str, filters: moderation.Filters, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return url_for(endpoint, q=filters.query or None, status=filters.status, after=cursor)


def list_films() -> Response:
    filters = moderation.clean_filters(request.args.get("q"), request.args.get("status"))
    page = moderation.films_page(filters, request.args.get("after") or None)
    return render(
        "supervisor/films_list.html",
        "film_rows",
        page=page,
        filters=filters,
        next_url=_next_url("supervisor.list_films", filters, page.next_cursor),
        form=VisibilityForm(formdata=None),
    )


def set_film_visibility(movie_id: int) -> Response:
    form = VisibilityForm()
    if not form.validate():
        raise Invalid("The reason is too long.")
    movie = moderation.set_film_hidden(movie_id, _wanted(form), form.reason.data, current_visitor())
    if is_partial():
        return render("supervisor/film_row.html", "film_row", movie=movie, form=form)
    flash(
        f"“{movie.title}” is {'hidden from viewers' if movie.hidden else 'shown again'}.", "success"
    )
    return hx_redirect(back(url_for("supervisor.list_films")))


def set_films_visibility() -> Response:
    form = VisibilityForm()
    if not form.validate():
        raise Invalid("The reason is too long.")
    raw_ids = request.form.getlist("ids")[: moderation.BULK_MAX + 1]
    ids = [
        values.whole_number(raw, low=1, high=values.MAX_ID, message="That is not a film.")
        for raw in raw_ids
    ]
    hidden = _wanted(form)
    changed = moderation.set_films_hidden(ids, hidden, form.reason.data, current_visitor())
    flash(
        f"{changed} film{'s' if changed != 1 else ''} "
        f"{'hidden from viewers' if hidden else 'shown again'}.",
        "success",
    )
    return hx_redirect(back(url_for("supervisor.list_films")))


def list_reviews() -> Response:
    filters = moderation.clean_filters(request.args.get("q"), request.args.get("status"))
    page = moderation.reviews_page(filters, request.args.get("after") or None)
    return render(
        "supervisor/reviews_list.html",
        "review_rows",
        page=page,
        filters=filters,
        next_url=_next_url("supervisor.list_reviews", filters, page.next_cursor),
    )


def set_review_visibility(rating_id: int) -> Response:
    form = VisibilityForm()
    if not form.validate():
        raise Invalid("The reason is too long.")
    review = moderation.set_review_hidden(
        rating_id, _wanted(form), form.reason.data, current_visitor()
    )
    if is_partial():
        return render("supervisor/review_row.html", "review_row", review=review)
    flash(
        "The review is hidden from viewers." if review.hidden else "The review is shown again.",
        "success",
    )
    return hx_redirect(back(url_for("supervisor.list_reviews")))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/movies", view_func=list_films)
    bp.add_url_rule("/movies/visibility", view_func=set_films_visibility, methods=["POST"])
    bp.add_url_rule(
        "/movies/<id:movie_id>/visibility", view_func=set_film_visibility, methods=["POST"]
    )
    bp.add_url_rule("/reviews", view_func=list_reviews)
    bp.add_url_rule(
        "/reviews/<id:rating_id>/visibility", view_func=set_review_visibility, methods=["POST"]
    )
