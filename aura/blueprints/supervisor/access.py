"""Every supervisor page is for supervisors only: anonymous visitors are sent to sign in,
signed-in viewers get 403.

The check runs as a URL value preprocessor, before any ``before_request`` hook, so a request
from anyone else is refused before its body (an upload, say) is even parsed; it runs again
before the view, after the idle-session check may have signed the user out.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request, url_for
from flask_login import current_user

from aura.blueprints.supervisor import bp
from aura.errors import Forbidden, Unauthorized
from aura.htmx import hx_redirect


def require_supervisor() -> None:
    if current_user.is_supervisor:
        return
    if current_user.is_authenticated:
        raise Forbidden("Only supervisors can open this page.")
    if "auth.login" not in current_app.view_functions:
        raise Unauthorized("Sign in as a supervisor to open this page.")
    here = request.full_path if request.query_string else request.path
    abort(hx_redirect(url_for("auth.login", next=here)))


@bp.url_value_preprocessor
def _guard_early(endpoint: str | None, values: dict[str, Any] | None) -> None:
    require_supervisor()


@bp.before_request
def _guard() -> None:
    require_supervisor()
