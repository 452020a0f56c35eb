"""The audit trail: who did what to which thing, from where, and when.

Sign-ins and their failures, throttles and lockouts, role and status changes, moderation,
uploads, edits, deletions, reset links and backups are each one ``AuditEvent``. Entries are
written in the unit of work of the change they describe and are never edited afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from aura.errors import Invalid
from aura.extensions import db
from aura.models import AuditEvent, User, utcnow
from aura.services import cursors, values
from aura.services.addresses import stored_ip
from aura.services.cursors import Page
from aura.services.search import like_pattern


def record(
    action: str,
    *,
    actor_id: int | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> AuditEvent:
    """Add an audit event to the current unit of work. Does not commit."""
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        target=(target or "")[:200] or None,
        detail=detail,
        ip=stored_ip(client_ip),
    )
    db.session.add(event)
    return event


# -- reading the trail (the supervisor's audit page) ---------------------------------------------

MAX_WINDOW_DAYS = 366


@dataclass(frozen=True)
class Filters:
    action: str = ""  # an action, or its family with a trailing dot ("login.")
    actor: str = ""  # part of the actor's email or name
    target: str = ""  # the start of the target ("user:12", "film:")
    since: date | None = None
    until: date | None = None  # inclusive


def _day(raw: str | None, name: str) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    if len(text) != 10 or not text.isascii():
        raise Invalid.field(name, "Give dates as YYYY-MM-DD.")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Invalid.field(name, "Give dates as YYYY-MM-DD.") from None
    if not date(2000, 1, 1) <= day <= date(2200, 12, 31):
        raise Invalid.field(name, "Give a date between 2000 and 2200.")
    return day


def clean_filters(
    action: str | None,
    actor: str | None,
    target: str | None,
    since: str | None,
    until: str | None,
) -> Filters:
    """The audit page's filters from what was typed; Invalid for dates that make no window."""
    first, last = _day(since, "since"), _day(until, "until")
    if first and last and first > last:
        raise Invalid.field("until", "The end of the window is before its start.")
    return Filters(
        values.one_line(action, 64),
        values.one_line(actor, 200),
        values.one_line(target, 200),
        first,
        last,
    )


def _statement(filters: Filters) -> sa.Select:
    stmt = sa.select(AuditEvent).options(selectinload(AuditEvent.actor))
    if filters.action.endswith("."):
        stmt = stmt.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    elif filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.actor:
        pattern = like_pattern(filters.actor)
        stmt = stmt.join(User, User.id == AuditEvent.actor_id).where(
            sa.or_(
                User.email.ilike(pattern, escape="\\"),
                User.display_name.ilike(pattern, escape="\\"),
            )
        )
    if filters.target:
        stmt = stmt.where(AuditEvent.target.startswith(filters.target, autoescape=True))
    if filters.since:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(filters.since, time.min, UTC))
    if filters.until:
        stmt = stmt.where(
            AuditEvent.at < datetime.combine(filters.until + timedelta(days=1), time.min, UTC)
        )
    return stmt


def events_page(filters: Filters, after: str | None, limit: int = 50) -> Page:
    """The trail, newest first, as the filters say."""
    return cursors.paginate(
        _statement(filters), AuditEvent.at, AuditEvent.id, "datetime", True, after, limit
    )


def export(filters: Filters) -> Iterator[AuditEvent]:
    """Every event of a bounded window, newest first, fetched in batches (for a CSV)."""
    until = filters.until or utcnow().date()
    since = filters.since or until - timedelta(days=29)
    if (until - since).days >= MAX_WINDOW_DAYS:
        raise Invalid.field("since", f"Export at most {MAX_WINDOW_DAYS} days at a time.")
    window = Filters(filters.action, filters.actor, filters.target, since, until)
    after = None
    while True:
        page = events_page(window, after, limit=500)
        yield from page.items
        if page.next_cursor is None:
            return
        after = page.next_cursor
