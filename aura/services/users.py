"""The supervisor's people: find accounts, change roles, switch accounts off and on again.

The last active supervisor can be neither demoted nor switched off (as Jellyfin refuses to
remove its last administrator), so a site always has someone who can run it. Switching an
account off signs it out everywhere and ends its access grants at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from aura import sessions
from aura.errors import Conflict, Invalid, NotFound
from aura.extensions import db
from aura.models import User
from aura.services import audit, cursors, values
from aura.services.cursors import Page
from aura.services.search import like_pattern
from aura.services.visitors import Visitor

ROLE_FILTERS = ("all", "viewer", "supervisor")
STATUS_FILTERS = ("all", "active", "off")
LAST_SUPERVISOR = (
    "This is the last active supervisor: make another account a supervisor first, so someone "
    "can still run the site."
)


@dataclass(frozen=True)
class Filters:
    query: str = ""
    role: str = "all"
    status: str = "all"


def clean_filters(query: str | None, role: str | None, status: str | None) -> Filters:
    role, status = role or "all", status or "all"
    if role not in ROLE_FILTERS or status not in STATUS_FILTERS:
        raise Invalid("Filter by a role (viewer, supervisor) and a status (active, off).")
    return Filters(values.one_line(query, 200), role, status)


def users_page(filters: Filters, after: str | None, limit: int = 50) -> Page:
    """Accounts, newest first, matching the search (email or display name)."""
    stmt = sa.select(User)
    if filters.query:
        pattern = like_pattern(filters.query)
        stmt = stmt.where(
            sa.or_(
                User.email.ilike(pattern, escape="\\"),
                User.display_name.ilike(pattern, escape="\\"),
            )
        )
    if filters.role != "all":
        stmt = stmt.where(User.role == filters.role)
    if filters.status != "all":
        stmt = stmt.where(User.active.is_(filters.status == "active"))
    return cursors.paginate(stmt, User.id, User.id, "number", True, after, limit)


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id) if values.is_id(user_id) else None
    if user is None:
        raise NotFound("There is no such account.")
    return user


def _locked_for_update(user_id: int) -> User:
    """The account, locked against a concurrent change on PostgreSQL (SQLite writes one at a
    time anyway), so two supervisors cannot both remove each other as the last ones."""
    user = db.session.scalar(sa.select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise NotFound("There is no such account.")
    return user


def _other_active_supervisors(user_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                User.role == "supervisor", User.active.is_(True), User.id != user_id
            )
        )
        or 0
    )


def _guard_last_supervisor(user: User) -> None:
    if user.is_supervisor and user.active and _other_active_supervisors(user.id) == 0:
        raise Conflict(LAST_SUPERVISOR)


def set_role(user_id: int, role: str, actor: Visitor) -> User:
    """Make an account a viewer or a supervisor. Commits."""
    if role not in ("viewer", "supervisor"):
        raise Invalid("An account is a viewer or a supervisor.")
    if values.is_id(user_id):
        db.session.scalars(sa.select(User).where(User.role == "supervisor").with_for_update()).all()
    user = _locked_for_update(user_id) if values.is_id(user_id) else get_user(user_id)
    if user.role == role:
        return user
    if role == "viewer":
        _guard_last_supervisor(user)
    before = user.role
    user.role = role
    audit.record(
        "user.role",
        actor_id=actor.user_id,
        target=f"user:{user.id}",
        detail={"email": user.email, "from": before, "to": role},
        client_ip=actor.client_ip,
    )
    db.session.commit()
    return user


def set_active(user_id: int, active: bool, actor: Visitor) -> User:
    """Switch an account off (signed out everywhere, grants ended) or on again. Commits."""
    if values.is_id(user_id):
        db.session.scalars(sa.select(User).where(User.role == "supervisor").with_for_update()).all()
    user = _locked_for_update(user_id) if values.is_id(user_id) else get_user(user_id)
    if user.active == active:
        return user
    if not active:
        _guard_last_supervisor(user)
        sessions.revoke_all(user.id)
    user.active = active
    audit.record(
        "user.activate" if active else "user.deactivate",
        actor_id=actor.user_id,
        target=f"user:{user.id}",
        detail={"email": user.email, "from": not active, "to": active},
        client_ip=actor.client_ip,
    )
    db.session.commit()
    return user
