"""What viewers do, as the supervisor sees it: views with client IPs and the audit trail."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import uuid
from typing import Any

from flask import current_app

from aura.extensions import db
from aura.models import AuditEvent, View
from aura.services import scores
from aura.services.visitors import Visitor


def stored_ip(raw: str | None) -> str | None:
    """The client IP as ``AURA_IP_MODE`` says to keep it; None for anything that is not an IP."""
    try:
        address = ipaddress.ip_address((raw or "").strip())
    except ValueError:
        return None
    mode = current_app.config["IP_MODE"]
    if mode == "truncated":
        prefix = 24 if address.version == 4 else 48
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)
    if mode == "hashed":
        key = current_app.config["SECRET_KEY"].encode()
        return "h:" + hmac.new(key, address.packed, hashlib.sha256).hexdigest()[:24]
    return str(address)


def record_view(
    *,
    kind: str,
    client_ip: str | None,
    user_agent: str | None,
    referrer: str | None,
    movie_id: int | None = None,
    video_id: uuid.UUID | None = None,
    user_id: int | None = None,
) -> View:
    """Log one view. Does not commit: the caller's unit of work does."""
    view = View(
        kind=kind,
        movie_id=movie_id,
        video_id=video_id,
        user_id=user_id,
        client_ip=stored_ip(client_ip),
        user_agent=(user_agent or "")[:512] or None,
        referrer=(referrer or "")[:1024] or None,
    )
    db.session.add(view)
    return view


def film_viewed(movie_id: int, visitor: Visitor) -> None:
    """Someone opened a film's page: log the view and count it for the rows. Commits."""
    record_view(
        kind="detail",
        movie_id=movie_id,
        user_id=visitor.user_id,
        client_ip=visitor.client_ip,
        user_agent=visitor.user_agent,
        referrer=visitor.referrer,
    )
    scores.movie_viewed(movie_id)
    db.session.commit()


def audit(
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
