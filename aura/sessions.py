"""Signed-in browsers, in one place: start, check, rotate, end, and end everywhere.

A browser is signed in while its session cookie carries the random token of a live
``LoginSession`` row (only the token's hash is stored). That row is the one thing that decides:
signing out revokes it, so a copy of the cookie taken earlier is anonymous afterwards; ending
every session (password change or reset, "sign out everywhere", deactivation) revokes all of a
user's rows; and the row carries the absolute and idle lifetimes the server enforces. Access
grants given to a signed-in user end with that user's sessions.

A signed-out visitor who presses + or a star is sent to sign in; what they were doing waits in
the (signed) cookie as a one-time "after sign-in" action that survives signing in, and the film
page performs it with a POST (``remember_after_sign_in``, ``after_sign_in``,
``take_after_sign_in``).

Signing in with a second factor has two steps: ``begin_second_factor`` keeps the half-done
sign-in in the cookie for a few minutes, ``pending_sign_in`` reads it back. The two-factor gate
(a supervisor at a site that requires it sets it up before anything else) runs before every
request, here too.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    after_this_request,
    current_app,
    flash,
    g,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from aura.errors import Invalid
from aura.extensions import db, login_manager
from aura.htmx import hx_redirect
from aura.models import LoginSession, User, utcnow
from aura.models.user import Anonymous
from aura.services import audit, grants, mfa, throttles
from aura.services.addresses import stored_ip
from aura.services.emails import normalise_email
from aura.services.visitors import Visitor
from aura.web import browser_key

SID = "sid"  # the cookie's login token
SECOND_FACTOR = "mfa"  # whether this sign-in passed a second factor
PENDING = "pending"  # a sign-in waiting for its second factor
PENDING_SECONDS = 300
AFTER_SIGN_IN = "after_sign_in"  # what a signed-out visitor was doing when sent to sign in
AFTER_SIGN_IN_SECONDS = 900
AFTER_SIGN_IN_KINDS = ("watchlist", "rate")
TOUCH_EVERY = timedelta(seconds=60)  # write last_seen_at at most once a minute per browser
MAX_TOKEN = 128
# Pages a supervisor who must set up two-factor sign-in may still open.
SECOND_FACTOR_SETUP = {"auth.account", "auth.logout", "static"}


def init_app(app: Flask) -> None:
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    app.before_request(_second_factor_gate)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


# -- the rows ------------------------------------------------------------------------------------


# Asked on every signed-in request: built once.
_SIGNED_IN = (
    sa.select(User, LoginSession)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(LoginSession.token_hash == sa.bindparam("token_hash"))
)


def check(user_id: int, token: object) -> tuple[User, LoginSession] | None:
    """The user and their session row for this token, if the row is live; touches it."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return None
    found = db.session.execute(_SIGNED_IN, {"token_hash": _hash(token)}).first()
    if found is None:
        return None
    user, row = found
    now = utcnow()
    if (
        user.id != user_id
        or not user.active
        or row.revoked_at is not None
        or row.expires_at <= now
        or now - row.last_seen_at > _idle_limit()
    ):
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        db.session.execute(
            sa.update(LoginSession).where(LoginSession.id == row.id).values(last_seen_at=now)
        )
        db.session.commit()
    return user, row


def revoke_all(user_id: int) -> None:
    """End every signed-in browser of a user, and the access grants given to them.

    The one way to sign a person out everywhere. Does not commit: the caller's unit of work
    (password change, reset, deactivation) does.
    """
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    grants.revoke_user(user_id)


def live_sessions(user_id: int) -> list[LoginSession]:
    """The browsers where a user is signed in, most recently seen first."""
    now = utcnow()
    return list(
        db.session.scalars(
            sa.select(LoginSession)
            .where(
                LoginSession.user_id == user_id,
                LoginSession.revoked_at.is_(None),
                LoginSession.expires_at > now,
                LoginSession.last_seen_at > now - _idle_limit(),
            )
            .order_by(LoginSession.last_seen_at.desc())
        )
    )


def current_session_id() -> int | None:
    """The id of this browser's LoginSession row (to mark it in a list), if signed in."""
    token = session.get(SID)
    if not isinstance(token, str) or not current_user.is_authenticated:
        return None
    return db.session.scalar(
        sa.select(LoginSession.id).where(LoginSession.token_hash == _hash(token))
    )


# -- the cookie ----------------------------------------------------------------------------------


def _load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user, only while this browser's session row is live."""
    if not user_id.isascii() or not user_id.isdecimal() or len(user_id) > 19:
        return None
    found = check(int(user_id), session.get(SID))
    if found is None:
        # Signed out, expired or revoked elsewhere: the old cookie is forgotten.
        for key in ("_user_id", "_fresh", "_id", SID, SECOND_FACTOR):
            session.pop(key, None)
        return None
    return found[0]


def new_session(user: User, visitor: Visitor, *, second_factor: bool = False) -> str:
    """Record a new signed-in browser for ``user``; returns the token its cookie will carry.
    Does not commit."""
    now = utcnow()
    # Ended sessions are of no further use; dropping such a row only ever signs a browser out.
    db.session.execute(
        sa.delete(LoginSession).where(
            LoginSession.user_id == user.id,
            sa.or_(LoginSession.expires_at < now, LoginSession.revoked_at.is_not(None)),
        )
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            user_id=user.id,
            token_hash=_hash(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + current_app.config["PERMANENT_SESSION_LIFETIME"],
            client_ip=stored_ip(visitor.client_ip),
            user_agent=(visitor.user_agent or "")[:255] or None,
            second_factor=second_factor,
        )
    )
    return token


def start(user: User, visitor: Visitor, *, second_factor: bool = False) -> None:
    """Sign this browser in as ``user``: a new session row and token, the old cookie (and its
    CSRF token) thrown away, the success audited. Commits."""
    previous = session.get(SID)
    if isinstance(previous, str) and len(previous) <= MAX_TOKEN:
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.token_hash == _hash(previous))
            .values(revoked_at=utcnow())
        )
    token = new_session(user, visitor, second_factor=second_factor)
    user.last_login_at = utcnow()
    audit.record(
        "login.success",
        actor_id=user.id,
        target=f"user:{user.id}",
        detail={"second_factor": second_factor},
        client_ip=visitor.client_ip,
    )
    db.session.commit()
    waiting = session.get(AFTER_SIGN_IN)
    session.clear()
    g.pop("csrf_token", None)  # a token made earlier in this request belongs to the old session
    if waiting is not None:
        session[AFTER_SIGN_IN] = waiting
    login_user(user, fresh=True)
    session[SID] = token
    session[SECOND_FACTOR] = second_factor
    session.permanent = True  # the cookie lives PERMANENT_SESSION_LIFETIME; the server enforces it
    remember_device(user.email)


def rotate(user: User, visitor: Visitor) -> None:
    """After every session of ``user`` was revoked (a password change, "sign out everywhere"),
    sign this browser in again with a new token, keeping its second-factor state. Commits."""
    start(user, visitor, second_factor=bool(session.get(SECOND_FACTOR)))


def end(visitor: Visitor) -> None:
    """Sign this browser out: its row is revoked (a copy of the cookie is anonymous from now
    on) and the grants it held end with it. Commits."""
    token = session.get(SID)
    if isinstance(token, str) and len(token) <= MAX_TOKEN:
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.token_hash == _hash(token), LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    if (key := browser_key(create=False)) is not None:
        grants.revoke_browser(key)
    if visitor.user_id is not None:
        audit.record(
            "logout",
            actor_id=visitor.user_id,
            target=f"user:{visitor.user_id}",
            client_ip=visitor.client_ip,
        )
    db.session.commit()
    logout_user()
    session.clear()
    g.pop("csrf_token", None)


def end_everywhere(user_id: int, visitor: Visitor) -> None:
    """Sign every browser of this user out, then sign this one in again. Commits."""
    user = db.session.get(User, user_id)
    if user is None:
        return
    revoke_all(user.id)
    audit.record(
        "sessions.revoke_all",
        actor_id=user.id,
        target=f"user:{user.id}",
        client_ip=visitor.client_ip,
    )
    db.session.commit()
    rotate(user, visitor)


# -- browsers that signed in before (OWASP's device cookies) -----------------------------------

DEVICE_COOKIE = "aura_device"
DEVICE_DAYS = 365
MAX_DEVICE_ACCOUNTS = 5  # a shared browser remembers a few accounts, newest first


def account_key(email: str) -> str:
    """The throttle and device key of an email as typed, normalised the way accounts are."""
    try:
        email = normalise_email(email)
    except Invalid:  # not an address: still one key per spelling, never in clear
        email = (email or "").strip().casefold()[:320]
    return throttles.key_of("account", email)


def _devices() -> list[list[str]]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 2048:
        return []
    try:
        entries = URLSafeSerializer(current_app.secret_key, salt="aura-device").loads(raw)
    except BadSignature:
        return []
    if not isinstance(entries, list):
        return []
    return [
        entry
        for entry in entries
        if isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, str) for x in entry)
    ][:MAX_DEVICE_ACCOUNTS]


def trusted_device(email: str) -> str | None:
    """This browser's device id for the account ``email``, if it signed in to it before."""
    key = account_key(email)
    return next((device for account, device in _devices() if account == key), None)


def remember_device(email: str) -> None:
    """After a successful sign-in, this browser is trusted for the account from now on."""
    key = account_key(email)
    device = trusted_device(email) or secrets.token_urlsafe(16)
    entries = [[key, device]] + [entry for entry in _devices() if entry[0] != key]
    value = URLSafeSerializer(current_app.secret_key, salt="aura-device").dumps(
        entries[:MAX_DEVICE_ACCOUNTS]
    )

    @after_this_request
    def _set(response: Response) -> Response:
        response.set_cookie(
            DEVICE_COOKIE,
            value,
            max_age=DEVICE_DAYS * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
        return response


# -- two steps: the password, then the second factor --------------------------------------------


@dataclass(frozen=True)
class PendingSignIn:
    user: User
    next_url: str | None
    secret: str | None  # set when the account must first set two-factor sign-in up


def _fingerprint(user: User) -> str:
    """Changes when the password does, so a half-done sign-in ends with a password change."""
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:16]


def begin_second_factor(user: User, next_url: str | None, secret: str | None) -> None:
    """Remember that ``user`` gave the right password; the second factor comes next.

    The pre-sign-in session ends here. A new secret to enrol (``secret``) only ever sits in
    this signed, HttpOnly cookie until the person proves their app has it.
    """
    waiting = session.get(AFTER_SIGN_IN)
    session.clear()
    if waiting is not None:
        session[AFTER_SIGN_IN] = waiting
    session[PENDING] = {
        "uid": user.id,
        "fp": _fingerprint(user),
        "at": int(time.time()),
        "next": next_url,
        "secret": secret,
    }


def pending_sign_in() -> PendingSignIn | None:
    """The sign-in waiting for its second factor, if it is recent and still valid."""
    data = session.get(PENDING)
    if not isinstance(data, dict) or not isinstance(data.get("at"), int):
        return None
    if time.time() - data["at"] > PENDING_SECONDS or not isinstance(data.get("uid"), int):
        return None
    user = db.session.get(User, data["uid"]) if 0 < data["uid"] < 2**63 else None
    if user is None or not user.active or data.get("fp") != _fingerprint(user):
        return None
    secret = data.get("secret")
    next_url = data.get("next")
    return PendingSignIn(
        user,
        next_url if isinstance(next_url, str) else None,
        secret if isinstance(secret, str) else None,
    )


def forget_pending() -> None:
    session.pop(PENDING, None)


# -- what a visitor was doing when they were sent to sign in ------------------------------------


@dataclass(frozen=True)
class AfterSignIn:
    kind: str  # "watchlist" (put the film on it) or "rate" (give it ``value``)
    movie_id: int
    value: int


def remember_after_sign_in(kind: str, movie_id: int, value: int) -> None:
    """Keep what a signed-out visitor was doing, to do it once they have signed in."""
    if kind not in AFTER_SIGN_IN_KINDS:
        raise ValueError(kind)
    session[AFTER_SIGN_IN] = {
        "kind": kind,
        "movie": movie_id,
        "value": value,
        "at": int(time.time()),
    }


def _read_after_sign_in(data: object) -> AfterSignIn | None:
    if not isinstance(data, dict) or data.get("kind") not in AFTER_SIGN_IN_KINDS:
        return None
    at, movie_id, value = data.get("at"), data.get("movie"), data.get("value")
    if not all(
        isinstance(item, int) and not isinstance(item, bool) for item in (at, movie_id, value)
    ):
        return None
    if time.time() - at > AFTER_SIGN_IN_SECONDS or not 0 < movie_id < 2**63:
        return None
    return AfterSignIn(data["kind"], movie_id, value)


def after_sign_in(movie_id: int) -> AfterSignIn | None:
    """The action waiting for this film, once the visitor has signed in (it is not taken)."""
    if not current_user.is_authenticated:
        return None
    action = _read_after_sign_in(session.get(AFTER_SIGN_IN))
    return action if action is not None and action.movie_id == movie_id else None


def take_after_sign_in() -> AfterSignIn | None:
    """The waiting action, removed from the cookie: it is done once at most."""
    return _read_after_sign_in(session.pop(AFTER_SIGN_IN, None))


def _second_factor_gate() -> Response | None:
    if request.endpoint in SECOND_FACTOR_SETUP or not current_user.is_authenticated:
        return None
    if mfa.required_for(current_user) and not current_user.mfa_enabled:
        flash("This site requires two-factor sign-in for supervisors: set it up first.", "info")
        return hx_redirect(url_for("auth.account") + "#two-factor")
    return None
