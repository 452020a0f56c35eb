"""The audit log: every moderation, role or status change, reset link, upload, edit, deletion,
sign-in failure, throttle, backup and restore. Read-only: nothing here changes an entry."""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from aura.blueprints.supervisor.exports import csv_response
from aura.htmx import render
from aura.services import audit


def _filters() -> audit.Filters:
    args = request.args
    return audit.clean_filters(
        args.get("action"),
        args.get("actor"),
        args.get("target"),
        args.get("since"),
        args.get("until"),
    )


def _query(filters: audit.Filters) -> dict[str, str]:
    return {
        key: value
        for key, value in {
            "action": filters.action,
            "actor": filters.actor,
            "target": filters.target,
            "since": filters.since.isoformat() if filters.since else "",
            "until": filters.until.isoformat() if filters.until else "",
        }.items()
        if value
    }


def list_audit() -> Response:
    filters = _filters()
    if request.args.get("format") == "csv":
        return _export(filters)
    page = audit.events_page(filters, request.args.get("after") or None)
    cursor = page.next_cursor
    return render(
        "supervisor/audit_list.html",
        "audit_rows",
        page=page,
        filters=filters,
        next_url=cursor and url_for("supervisor.list_audit", after=cursor, **_query(filters)),
        csv_url=url_for("supervisor.list_audit", format="csv", **_query(filters)),
    )


def _export(filters: audit.Filters) -> Response:
    events = audit.export(filters)
    first = next(events, None)  # a bad window is refused before the download starts

    def rows():
        for event in [first] if first else []:
            yield _row(event)
        for event in events:
            yield _row(event)

    return csv_response(
        "aura-audit.csv", ["at (UTC)", "action", "actor", "target", "detail", "ip"], rows()
    )


def _row(event) -> list[object]:
    return [
        event.at.isoformat(),
        event.action,
        event.actor.email if event.actor else "",
        event.target or "",
        event.detail or "",
        event.ip or "",
    ]


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/audit", view_func=list_audit)
