"""The audit trail: who did what to which thing, from where, and when.

Sign-ins and their failures, throttles and lockouts, role and status changes, moderation,
uploads, edits, deletions, reset links and backups are each one ``AuditEvent``. Entries are
written in the unit of work of the change they describe and are never edited afterwards.
"""

from __future__ import annotations

from typing import Any

from aura.extensions import db
from aura.models import AuditEvent
from aura.services.addresses import stored_ip


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
