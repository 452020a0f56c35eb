"""Every supervisor page is for supervisors only: anonymous visitors are sent to sign in,
signed-in viewers get 403.

The check runs as a URL value preprocessor, before any ``before_request`` hook, so a request
from anyone else is refused before its body (an upload, say) is even parsed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from aura.errors import Forbidden
from aura.htmx import hx_redirect


def require_supervisor() -> None:
    if current_user.is_supervisor:
        return
    if current_user.is_authenticated:
        raise Forbidden("Only supervisors can open this page.")
    here = request.full_path if request.query_string else request.path
    abort(hx_redirect(url_for("auth.login", next=here)))


def _guard(endpoint: str | None, values: dict[str, Any] | None) -> None:
    require_supervisor()


def register(bp: Blueprint) -> None:
    bp.url_value_preprocessor(_guard)
