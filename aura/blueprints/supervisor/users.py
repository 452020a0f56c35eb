"""The supervisor's users page: search, roles, switching accounts off and on, reset links."""

from __future__ import annotations

from flask import Blueprint, Response, flash, request, url_for
from flask_login import current_user

from aura.blueprints.supervisor.forms import ActiveForm, RoleForm
from aura.errors import Invalid
from aura.htmx import hx_redirect, is_partial, render
from aura.models import User
from aura.navigation import back
from aura.services import resets, users
from aura.web import current_visitor


def _row(user: User) -> Response:
    return render("supervisor/user_row.html", "user_row", user=user)


def list_users() -> Response:
    filters = users.clean_filters(
        request.args.get("q"), request.args.get("role"), request.args.get("status")
    )
    page = users.users_page(filters, request.args.get("after") or None)
    cursor = page.next_cursor
    next_url = cursor and url_for(
        "supervisor.list_users",
        q=filters.query or None,
        role=filters.role,
        status=filters.status,
        after=cursor,
    )
    return render(
        "supervisor/users_list.html", "user_rows", page=page, filters=filters, next_url=next_url
    )


def set_role(user_id: int) -> Response:
    form = RoleForm()
    form.validate()
    user = users.set_role(user_id, form.role.data or "", current_visitor())
    if is_partial():
        return _row(user)
    flash(f"{user.display_name} is now a {user.role}.", "success")
    return hx_redirect(back(url_for("supervisor.list_users")))


def set_active(user_id: int) -> Response:
    form = ActiveForm()
    form.validate()
    active = {"1": True, "0": False}.get(form.active.data or "")
    if active is None:
        raise Invalid("Say whether to switch the account on (1) or off (0).")
    user = users.set_active(user_id, active, current_visitor())
    if is_partial():
        return _row(user)
    message = "is active again" if user.active else "is switched off and signed out everywhere"
    flash(f"{user.display_name} {message}.", "success")
    return hx_redirect(back(url_for("supervisor.list_users")))


def make_reset_link(user_id: int) -> Response:
    user = users.get_user(user_id)
    token = resets.issue(user.id, current_visitor())
    link = url_for("auth.reset_password", token=token, _external=True)
    response = render(
        "supervisor/reset_link.html",
        user=user,
        link=link,
        hours=int(resets.LIFETIME.total_seconds() // 3600),
        yourself=user.id == current_user.id,
    )
    response.headers["Cache-Control"] = "no-store"  # shown once: never kept by any cache
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/users", view_func=list_users)
    bp.add_url_rule("/users/<id:user_id>/role", view_func=set_role, methods=["POST"])
    bp.add_url_rule("/users/<id:user_id>/active", view_func=set_active, methods=["POST"])
    bp.add_url_rule("/users/<id:user_id>/reset-link", view_func=make_reset_link, methods=["POST"])
