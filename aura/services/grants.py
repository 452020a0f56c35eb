"""Access grants: who may stream which video, from which browser, until when.

A grant is 256 random bits given to one browser session (it travels in the signed session
cookie, never in a URL); only its SHA-256 is stored. It opens exactly one video, for the browser
session and the signed-in user it was issued to, until it expires. Every stream request checks
it, so the stream URL is useless on its own. Changing a video's password revokes its grants;
signing out revokes the browser's grants.

A grant lasts ``AURA_ACCESS_GRANT_TTL`` seconds and is extended while the player uses it (a long
film keeps playing), never beyond ``MAX_LIFETIME`` after it was issued. A locked video needs its
password again once the grant has lapsed.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.exc import ObjectDeletedError
from werkzeug.security import check_password_hash

from aura.errors import Forbidden, Invalid, NotFound
from aura.extensions import db
from aura.models import AccessGrant, Video, utcnow
from aura.services import analytics, audit, throttles, visibility
from aura.services.addresses import stored_ip
from aura.services.visitors import Visitor

TOKEN_BYTES = 32  # 256 bits
MAX_LIFETIME = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)  # write last_used_at at most this often
# Wrong video passwords. Supervisors are never limited. A signed-in viewer is limited per
# account; a browser that unlocked the video before, on its own; any other client per address
# and video, per address, and (all such clients together) per video. So guessing from many
# addresses locks only clients nobody knows, never the viewer who has the password and is
# signed in, nor a browser that already watched.
PASSWORD_PER_USER_VIDEO = throttles.Limit.of(
    "video password per user and video", "10 per 15 minutes"
)
PASSWORD_PER_USER = throttles.Limit.of("video password per user", "60 per hour")
PASSWORD_PER_BROWSER_VIDEO = throttles.Limit.of(
    "video password per browser and video", "10 per 15 minutes"
)
PASSWORD_PER_ADDRESS_VIDEO = throttles.Limit.of(
    "video password per address and video", "5 per 5 minutes"
)
PASSWORD_PER_ADDRESS = throttles.Limit.of("video password per address", "30 per hour")
PASSWORD_PER_VIDEO = throttles.Limit.of("video password per video, unknown clients", "100 per hour")


class AccessDenied(Forbidden):
    title = "This video cannot be streamed from here"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "Open the video's page to watch it.")


class AccessExpired(AccessDenied):
    title = "Your access to this video has expired"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "Open the video's page again to keep watching.")


class PasswordRequired(Forbidden):
    """The video is locked and this browser holds no valid grant for it."""

    title = "This video is protected by a password"

    def __init__(self, video: Video, expired: bool = False) -> None:
        self.video = video
        self.expired = expired
        super().__init__(
            "Your access to this video expired. Enter the password again to keep watching."
            if expired
            else "Enter the video's password to watch it."
        )


class WrongPassword(Invalid):
    status = 422
    title = "That password is not right"

    def __init__(self, video: Video) -> None:
        self.video = video
        message = "That password is not right. Check it and try again."
        super().__init__(message, fields={"password": message})


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def browser_hash(browser: str | None) -> str:
    """What the database keeps of a browser's key: its hash."""
    return hashlib.sha256(("aura-session:" + (browser or "")).encode()).hexdigest()


def _now() -> datetime:
    return utcnow()


def _ttl() -> timedelta:
    return timedelta(seconds=current_app.config["ACCESS_GRANT_TTL"])


def watchable_video(video_id: uuid.UUID, include_hidden: bool = False) -> Video:
    """The video, or NotFound; a video of a hidden film is hidden too, except from supervisors."""
    video = db.session.get(Video, video_id)
    if video is None or not visibility.video_visible(video, include_hidden):
        raise NotFound("There is no such video. It may have been removed.")
    return video


def _grant_for(token: str | None) -> AccessGrant | None:
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    return db.session.scalar(
        sa.select(AccessGrant).where(AccessGrant.token_hash == hash_token(token))
    )


def _matches(grant: AccessGrant, video_id: uuid.UUID, visitor: Visitor) -> bool:
    if grant.video_id != video_id:
        return False
    if grant.session_id != browser_hash(visitor.browser):
        return False
    return grant.user_id is None or grant.user_id == visitor.user_id


def check(video_id: uuid.UUID, token: str | None, visitor: Visitor) -> AccessGrant:
    """The viewer's grant for the video, or AccessDenied / AccessExpired."""
    grant = _grant_for(token)
    if grant is None or not _matches(grant, video_id, visitor):
        raise AccessDenied()
    if grant.expires_at <= _now():
        raise AccessExpired()
    return grant


def _new_grant(video: Video, visitor: Visitor, created_at: datetime, expires_at: datetime) -> str:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(
        AccessGrant(
            token_hash=hash_token(token),
            video_id=video.id,
            user_id=visitor.user_id,
            session_id=browser_hash(visitor.browser),
            created_at=created_at,
            expires_at=expires_at,
            client_ip=stored_ip(visitor.client_ip),
        )
    )
    return token


def _forget(grant: AccessGrant | None) -> None:
    if grant is not None:
        db.session.delete(grant)


def open_player(video_id: uuid.UUID, token: str | None, visitor: Visitor) -> tuple[Video, str]:
    """Open the player: the video and a fresh grant token for this browser. Commits.

    An unlocked video gets a new grant each time the player opens. A locked one needs a valid
    grant from its password (else PasswordRequired, saying whether it expired); it is renewed
    with the same expiry, so every opening of the player counts as one play.
    """
    video = watchable_video(video_id, include_hidden=visitor.supervisor)
    grant = _grant_for(token)
    if grant is not None and not _matches(grant, video.id, visitor):
        grant = None
    now = _now()
    if video.locked:
        if grant is None:
            raise PasswordRequired(video)
        if grant.expires_at <= now:
            _forget(grant)
            db.session.commit()
            raise PasswordRequired(video, expired=True)
        new_token = _new_grant(video, visitor, grant.created_at, grant.expires_at)
    else:
        new_token = _new_grant(video, visitor, now, now + _ttl())
    _forget(grant)
    db.session.commit()
    return video, new_token


def _password_checks(video: Video, visitor: Visitor, known_browser: bool) -> list[throttles.Check]:
    if visitor.supervisor:
        return []
    key = throttles.key_of
    if visitor.user_id is not None:
        return [
            (PASSWORD_PER_USER_VIDEO, key(visitor.user_id, video.id)),
            (PASSWORD_PER_USER, key(visitor.user_id)),
        ]
    if known_browser and visitor.browser:
        return [(PASSWORD_PER_BROWSER_VIDEO, key(visitor.browser, video.id))]
    address = visitor.client_ip or "unknown"
    return [
        (PASSWORD_PER_ADDRESS_VIDEO, key(address, video.id)),
        (PASSWORD_PER_ADDRESS, key(address)),
        (PASSWORD_PER_VIDEO, key(video.id)),
    ]


def unlock(
    video_id: uuid.UUID, password: str, visitor: Visitor, known_browser: bool = False
) -> str:
    """Check a locked video's password and return a new grant token. Commits.

    Wrong passwords raise WrongPassword and are counted; past the limits that apply to this
    visitor (see ``_password_checks``; ``known_browser``: this browser unlocked the video
    before) Throttled is raised, with the true wait, before the password is even checked.
    """
    video = watchable_video(video_id, include_hidden=visitor.supervisor)
    now = _now()
    if not video.locked:
        token = _new_grant(video, visitor, now, now + _ttl())
        db.session.commit()
        return token
    checks = _password_checks(video, visitor, known_browser)
    message = "Too many wrong passwords for this video. Try again in {wait}."
    if visitor.user_id is None and not known_browser:
        message += " Signed-in viewers are not held up by other people's guesses."
    throttles.refuse(
        checks,
        message,
        action="video.unlock_throttled",
        target=f"video:{video.id}",
        actor_id=visitor.user_id,
        client_ip=visitor.client_ip,
    )
    password = password or ""
    if len(password) > 1024 or not check_password_hash(video.password_hash or "", password):
        throttles.fail(checks)
        audit.record(
            "video.unlock_failed",
            actor_id=visitor.user_id,
            target=f"video:{video.id}",
            client_ip=visitor.client_ip,
        )
        db.session.commit()
        raise WrongPassword(video)
    token = _new_grant(video, visitor, now, now + _ttl())
    db.session.commit()
    return token


def authorize(
    video_id: uuid.UUID, token: str | None, visitor: Visitor
) -> tuple[Video, AccessGrant]:
    """The video and the viewer's valid grant for it (AccessDenied / AccessExpired otherwise).

    Using a grant extends it, at most once a minute and never past its maximum lifetime.
    """
    grant = check(video_id, token, visitor)
    video = db.session.get(Video, video_id)
    if video is None or not visibility.video_visible(video, visitor.sees_hidden):
        raise AccessDenied()
    now = _now()
    if grant.last_used_at is None or now - grant.last_used_at >= TOUCH_EVERY:
        expires = min(max(grant.expires_at, now + _ttl()), grant.created_at + MAX_LIFETIME)
        db.session.execute(
            sa.update(AccessGrant)
            .where(AccessGrant.id == grant.id)
            .values(last_used_at=now, expires_at=expires)
        )
        db.session.commit()
    return video, grant


def count_play(grant: AccessGrant, video: Video, visitor: Visitor) -> bool:
    """Count one play for the grant, the first time only, whatever the number of range
    requests. The claim and the counter are single statements, safe under concurrency. A video
    (or grant) deleted while its first bytes were being sent counts nothing. Commits.
    """
    try:
        grant_id, video_id, movie_id = grant.id, video.id, video.movie_id
    except ObjectDeletedError:
        db.session.rollback()
        return False
    claimed = db.session.execute(
        sa.update(AccessGrant)
        .where(AccessGrant.id == grant_id, AccessGrant.view_counted.is_(False))
        .values(view_counted=True)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        return False
    analytics.video_played(video_id, movie_id, visitor)
    db.session.commit()
    return True


def revoke_video(video_id: uuid.UUID) -> int:
    """Delete every grant for a video (its password changed). Does not commit."""
    result = db.session.execute(sa.delete(AccessGrant).where(AccessGrant.video_id == video_id))
    return result.rowcount or 0


def revoke_browser(browser: str) -> int:
    """Delete the grants one browser holds (it signed out). Does not commit."""
    result = db.session.execute(
        sa.delete(AccessGrant).where(AccessGrant.session_id == browser_hash(browser))
    )
    return result.rowcount or 0


def revoke_user(user_id: int) -> int:
    """Delete every grant given to a user while signed in (their sessions ended). Does not
    commit."""
    result = db.session.execute(sa.delete(AccessGrant).where(AccessGrant.user_id == user_id))
    return result.rowcount or 0


def purge_expired(now: datetime | None = None) -> int:
    """Delete grants that have expired. Commits."""
    result = db.session.execute(
        sa.delete(AccessGrant).where(AccessGrant.expires_at <= (now or _now()))
    )
    db.session.commit()
    return result.rowcount or 0
