"""One JSON line per request, and a request id a supervisor can find it by.

The line carries the method, the route (a path whose arguments may be secret, such as a reset
link's token, is logged as its pattern), the query's parameter names without their values,
the status, the duration, the bytes sent, the request id, the user id and the client address
as ``AURA_IP_MODE`` keeps it. Never a cookie, a token, a password or a query value. The id is
sent back as ``X-Request-Id`` and printed on error pages.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time

from flask import Flask, Response, current_app, g, request
from flask_login import current_user

from aura.services.addresses import stored_ip

log = logging.getLogger("aura.requests")

HEADER = "X-Request-Id"
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{8,64}", re.ASCII)
# Route arguments that are secrets: their paths are logged as the route's pattern.
SECRET_ARGUMENTS = {"token"}


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.jinja_env.globals["request_id"] = request_id


def request_id() -> str:
    """This request's id: the proxy's, when a trusted proxy sent a well-formed one."""
    rid = g.get("request_id")
    if rid is None:
        incoming = request.headers.get(HEADER, "")
        trusted = current_app.config["TRUSTED_PROXY_HOPS"] > 0
        rid = incoming if trusted and _INCOMING_ID.fullmatch(incoming) else secrets.token_hex(8)
        g.request_id = rid
    return rid


def _start() -> None:
    g.started = time.perf_counter()
    request_id()


def _route() -> str:
    rule = request.url_rule
    if rule is not None and SECRET_ARGUMENTS & set(rule.arguments):
        return rule.rule
    return request.path[:500]


def _finish(response: Response) -> Response:
    response.headers.setdefault(HEADER, request_id())
    if not current_app.config["REQUEST_LOG"] or request.endpoint == "static":
        return response
    started = g.get("started")
    entry = {
        "request_id": request_id(),
        "method": request.method,
        "path": _route(),
        "query": sorted(request.args.keys())[:20],
        "endpoint": request.endpoint,
        "status": response.status_code,
        "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "bytes": response.content_length,
        "user": current_user.id if current_user.is_authenticated else None,
        "ip": stored_ip(request.remote_addr),
    }
    log.info(json.dumps(entry, separators=(",", ":")))
    return response
