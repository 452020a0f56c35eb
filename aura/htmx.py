"""Page-or-fragment rendering for htmx, in one place.

One URL serves the whole page and its fragment: an htmx request (but not a boosted navigation or a
history restore, which need the whole page) gets just the named block of the same template.
"""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_partial() -> bool:
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, block: str | None = None, status: int = 200, **context: Any) -> Response:
    """The named block of ``template`` for a partial request, else the whole page."""
    if block is not None and is_partial():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def hx_redirect(location: str) -> Response:
    """A redirect an htmx request follows as a full navigation; plain forms get a 303."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
    else:
        response = make_response("", 303)
        response.headers["Location"] = location
    response.vary.add("HX-Request")
    return response
