"""The supervisor's analytics: the dashboard (its live block polled every 5 s), the view log
and its CSV export, and each film's and video's statistics."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request, url_for
from flask_login import current_user

from aura.blueprints.supervisor import exports
from aura.blueprints.supervisor.forms import ViewLogForm, WindowForm
from aura.errors import Invalid
from aura.extensions import client_ip
from aura.forms import show_errors
from aura.htmx import is_partial, render
from aura.services import dashboard
from aura.services.dashboard import Window

FORM_TOO_LONG = "One of these fields is far too long."


def _span(form: WindowForm, default: str) -> Window:
    """The window the form asks for; Invalid (400) with its fields' messages otherwise."""
    if not form.validate():
        raise Invalid(FORM_TOO_LONG, status=400)
    return dashboard.window(form.window.data, form.start.data, form.end.data, default=default)


def _refused(template: str, form: WindowForm, invalid: Invalid, **context) -> Response:
    """The page with the form and what is wrong with it, and nothing computed (400)."""
    if invalid.message != FORM_TOO_LONG or not form.errors:
        show_errors(form, invalid)
    return render(template, status=invalid.status, form=form, **context)


def show_dashboard() -> Response:
    """The dashboard; for htmx's poll, only its live block."""
    if is_partial():
        return render("supervisor/dashboard_show.html", "stats", stats=dashboard.live_stats())
    form = WindowForm(formdata=request.args)
    try:
        span = _span(form, default="7d")
    except Invalid as invalid:
        return _refused("supervisor/dashboard_show.html", form, invalid)
    page = dashboard.dashboard(span)
    form.window.data = span.kind
    return render("supervisor/dashboard_show.html", page=page, stats=page.stats, form=form)


def list_views() -> Response:
    """The view log, a page at a time (``after=``); ``format=csv`` streams the whole window."""
    form = ViewLogForm(formdata=request.args)
    output = request.args.get("format", "")
    try:
        if output not in ("", "html", "csv"):
            raise Invalid("The view log comes as a page or, with format=csv, as CSV.", status=400)
        if not form.validate():
            raise Invalid(FORM_TOO_LONG, status=400)
        filters = dashboard.log_filters(request.args)
    except Invalid as invalid:
        return _refused("supervisor/views_list.html", form, invalid)
    if output == "csv":
        rows = dashboard.export_views(filters, actor_id=current_user.id, client_ip=client_ip())
        return exports.csv_response(dashboard.csv_name(filters), dashboard.CSV_HEADER, rows)
    log = dashboard.view_log(filters, after=request.args.get("after") or None)
    form.window.data = filters.window.kind
    cursor = log.page.next_cursor
    return render(
        "supervisor/views_list.html",
        "view_rows",
        form=form,
        log=log,
        next_url=cursor and url_for("supervisor.list_views", after=cursor, **filters.query()),
        csv_url=url_for("supervisor.list_views", format="csv", **filters.query()),
    )


def show_movie_stats(movie_id: int) -> Response:
    return _title_stats(dashboard.film_stats, movie_id)


def show_video_stats(video_id: uuid.UUID) -> Response:
    return _title_stats(dashboard.video_stats, video_id)


def _title_stats(build: Callable[[Any, Window], Any], title_id: Any) -> Response:
    """A film's or a video's statistics page for the window asked (30 days unless said)."""
    form = WindowForm(formdata=request.args)
    try:
        span = _span(form, default="30d")
    except Invalid as invalid:
        return _refused("supervisor/stats_show.html", form, invalid)
    form.window.data = span.kind
    return render("supervisor/stats_show.html", stats=build(title_id, span), form=form)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/", view_func=show_dashboard)
    bp.add_url_rule("/views", view_func=list_views)
    bp.add_url_rule("/stats/movies/<id:movie_id>", view_func=show_movie_stats)
    bp.add_url_rule("/stats/videos/<uuid:video_id>", view_func=show_video_stats)
