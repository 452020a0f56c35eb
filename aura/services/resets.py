"""One-time password reset links, for a site without mail: a supervisor makes one for a user.

The link carries 256 random bits; only their hash is stored. It works once, for 24 hours;
using it sets the new password and signs the user out everywhere. Guessing links is pointless
(2^256) and throttled all the same.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from aura import sessions
from aura.errors import Invalid, NotFound
from aura.extensions import db
from aura.models import PasswordReset, User, utcnow
from aura.services import audit, passwords, throttles
from aura.services.visitors import Visitor

LIFETIME = timedelta(hours=24)
TOKEN_BYTES = 32
GUESSES_PER_ADDRESS = throttles.Limit.of("reset link per address", "20 per hour")
GONE = "This reset link has expired or was already used. Ask a supervisor for a new one."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue(user_id: int, actor: Visitor) -> str:
    """A new reset link's token for the user (shown once; earlier unused links stop working).
    Commits."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such account.")
    now = utcnow()
    db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(
        PasswordReset(
            token_hash=_hash(token),
            user_id=user.id,
            created_by_id=actor.user_id,
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    audit.record(
        "user.reset_link",
        actor_id=actor.user_id,
        target=f"user:{user.id}",
        detail={"email": user.email, "expires_in_hours": int(LIFETIME.total_seconds() // 3600)},
        client_ip=actor.client_ip,
    )
    db.session.commit()
    return token


def _checks(visitor: Visitor) -> list[throttles.Check]:
    return [(GUESSES_PER_ADDRESS, throttles.key_of("ip", visitor.client_ip or "unknown"))]


def find(token: str, visitor: Visitor) -> PasswordReset:
    """The live reset link for ``token``, or NotFound (counted against the address)."""
    checks = _checks(visitor)
    throttles.refuse(
        checks,
        "Too many reset links tried from this address. Try again in {wait}.",
        action="auth.throttled",
        target="reset link",
        client_ip=visitor.client_ip,
    )
    reset = None
    if isinstance(token, str) and 20 <= len(token) <= 100 and token.isascii():
        reset = db.session.scalar(
            sa.select(PasswordReset).where(PasswordReset.token_hash == _hash(token))
        )
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        throttles.fail(checks)
        raise NotFound(GONE)
    user = db.session.get(User, reset.user_id)
    if user is None or not user.active:
        raise NotFound(GONE)
    return reset


def use(token: str, new_password: str, visitor: Visitor) -> User:
    """Set the user's new password from a live link, once; everyone is signed out. Commits."""
    reset = find(token, visitor)
    user = db.session.get(User, reset.user_id)
    try:
        passwords.check_policy(new_password or "", user.email, user.display_name)
    except passwords.PasswordRejected as rejected:
        raise Invalid.field("new_password", rejected.message) from None
    claimed = db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:  # used a moment ago in another request
        db.session.rollback()
        raise NotFound(GONE)
    user.password_hash = passwords.hash_password(new_password)
    sessions.revoke_all(user.id)
    audit.record(
        "password.reset",
        actor_id=user.id,
        target=f"user:{user.id}",
        client_ip=visitor.client_ip,
    )
    db.session.commit()
    return user
