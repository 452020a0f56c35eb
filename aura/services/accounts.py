"""Accounts: registration, sign-in, signed-in browsers, password changes and two-factor sign-in.

Every rule about who may sign in lives here; the auth views only move values between forms, the
session cookie and these functions.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from aura.errors import Forbidden, Invalid, NotFound
from aura.extensions import db
from aura.models import LoginSession, User, utcnow
from aura.services import mfa, passwords
from aura.services.activity import audit, stored_ip

EMAIL_MAX = 254
NAME_MAX = 80
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.][^@\s]*\.[^@\s]+")
LOGIN_FAILED = "That email and password do not match an account. Check both and try again."
TOUCH_EVERY = timedelta(seconds=60)
DEMO_ACCOUNTS = (
    ("viewer@aura.local", "Demo Viewer", "viewer"),
    ("supervisor@aura.local", "Demo Supervisor", "supervisor"),
)


class FieldInvalid(Invalid):
    """Bad input that belongs to one form field, so the form can show it beside that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class LoginFailed(Invalid):
    title = "Sign-in failed"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    password: str


# -- values ---------------------------------------------------------------------------------------


def normalise_email(raw: str | None) -> str:
    """Trimmed and case-folded, so ``Ann@Example.com`` and ``ann@example.com`` are one account."""
    email = unicodedata.normalize("NFC", (raw or "").strip()).casefold()
    if not email:
        raise FieldInvalid("email", "Enter your email address.")
    if (
        len(email) > EMAIL_MAX
        or not _EMAIL.fullmatch(email)
        or not all(ch.isprintable() for ch in email)
    ):
        raise FieldInvalid("email", "Enter a valid email address, like name@example.com.")
    return email


def clean_display_name(raw: str | None) -> str:
    """Printable characters only, whitespace collapsed, 1 to 80 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = " ".join("".join(ch if ch.isprintable() else " " for ch in name).split())
    if not name:
        raise FieldInvalid("display_name", "Enter the name other people will see.")
    if len(name) > NAME_MAX:
        raise FieldInvalid("display_name", f"Use at most {NAME_MAX} characters.")
    return name


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such account.")
    return user


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


# -- creating accounts ----------------------------------------------------------------------------


def _new_user(email: str, display_name: str | None, password: str, role: str) -> User:
    email = normalise_email(email)
    name = clean_display_name(display_name if display_name is not None else email.split("@")[0])
    try:
        passwords.check_policy(password, email, name)
    except passwords.PasswordRejected as rejected:
        raise FieldInvalid("password", rejected.message) from None
    exists = FieldInvalid("email", "An account with this email already exists. Sign in instead.")
    if find_by_email(email) is not None:
        raise exists
    user = User(
        email=email, display_name=name, password_hash=passwords.hash_password(password), role=role
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # registered by another request a moment ago
        db.session.rollback()
        raise exists from None
    return user


def register(email: str, display_name: str, password: str, client_ip: str | None = None) -> User:
    """Create a viewer account from the sign-up form. Commits."""
    user = _new_user(email, display_name, password, "viewer")
    audit("account.register", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
    db.session.commit()
    return user


def create_user(
    email: str, password: str, display_name: str | None = None, supervisor: bool = False
) -> User:
    """Create an account from the command line. Commits."""
    role = "supervisor" if supervisor else "viewer"
    user = _new_user(email, display_name, password, role)
    audit("user.create", actor_id=None, target=f"user:{user.id}", detail={"role": role})
    db.session.commit()
    return user


def ensure_demo_accounts() -> list[DemoAccount]:
    """Create the demo viewer and supervisor if missing, each with a new random password.

    Returns only the accounts created now: their passwords are never stored anywhere readable.
    """
    created = []
    for email, name, role in DEMO_ACCOUNTS:
        if find_by_email(email) is not None:
            continue
        password = secrets.token_urlsafe(15)
        create_user(email, password, display_name=name, supervisor=role == "supervisor")
        created.append(DemoAccount(email=email, role=role, password=password))
    return created


# -- signing in and out ---------------------------------------------------------------------------


def authenticate(email: str, password: str, client_ip: str | None = None) -> User:
    """The account these credentials open, or LoginFailed.

    An unknown email and a wrong password get the same answer after the same hashing work, so
    the form does not tell which emails have accounts. Both are written to the audit trail.
    """
    try:
        email = normalise_email(email)
    except FieldInvalid:
        email = (email or "").strip()[:200]
        user = None
    else:
        user = find_by_email(email)
    correct = passwords.verify_password(user.password_hash if user else None, password or "")
    if user is not None and correct and user.active:
        return user
    reason = "unknown email" if user is None else "wrong password" if not correct else "inactive"
    audit(
        "login.failure",
        actor_id=user.id if user else None,
        target=email or None,
        detail={"reason": reason},
        client_ip=client_ip,
    )
    db.session.commit()
    if reason == "inactive":  # only someone who knows the password learns this
        raise LoginFailed("This account has been switched off. Ask a supervisor to restore it.")
    raise LoginFailed(LOGIN_FAILED)


def start_session(
    user: User,
    client_ip: str | None = None,
    user_agent: str | None = None,
    second_factor: bool = False,
    replaces: str | None = None,
) -> str:
    """Record a new signed-in browser and return the token its cookie will carry; the browser's
    previous token (``replaces``), if any, stops working. Commits."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    if replaces:
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.token_hash == _token_hash(replaces))
            .values(revoked_at=now)
        )
    # Sessions that ended are of no further use; dropping a row only ever signs a browser out.
    db.session.execute(
        sa.delete(LoginSession).where(
            LoginSession.user_id == user.id,
            sa.or_(LoginSession.expires_at < now, LoginSession.revoked_at.is_not(None)),
        )
    )
    db.session.add(
        LoginSession(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + current_app.config["PERMANENT_SESSION_LIFETIME"],
            client_ip=stored_ip(client_ip),
            user_agent=(user_agent or "")[:255] or None,
            second_factor=second_factor,
        )
    )
    user.last_login_at = now
    audit(
        "login.success",
        actor_id=user.id,
        target=f"user:{user.id}",
        detail={"second_factor": second_factor},
        client_ip=client_ip,
    )
    db.session.commit()
    return token


def session_is_live(user_id: int, token: str | None) -> bool:
    """Whether a browser's login token is still good: not signed out, not past its lifetimes."""
    if not token or len(token) > 128:
        return False
    row = db.session.scalar(
        sa.select(LoginSession).where(LoginSession.token_hash == _token_hash(token))
    )
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    if (
        row is None
        or row.user_id != user_id
        or row.revoked_at is not None
        or row.expires_at <= now
        or now - row.last_seen_at > idle
    ):
        return False
    if now - row.last_seen_at > TOUCH_EVERY:  # write at most once a minute per browser
        db.session.execute(
            sa.update(LoginSession).where(LoginSession.id == row.id).values(last_seen_at=now)
        )
        db.session.commit()
    return True


def end_session(user_id: int | None, token: str | None, client_ip: str | None = None) -> None:
    """Sign one browser out: its token stops working even if the cookie was copied. Commits."""
    if token:
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.token_hash == _token_hash(token), LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    if user_id is not None:
        audit("logout", actor_id=user_id, target=f"user:{user_id}", client_ip=client_ip)
    db.session.commit()


def _revoke_all(user: User) -> None:
    """Every browser of this user signs out: a new session version and no live tokens."""
    user.session_version = User.session_version + 1
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def sign_out_everywhere(user_id: int, client_ip: str | None = None) -> User:
    """Sign every browser of this account out. Commits; the caller signs this one in again."""
    user = get_user(user_id)
    _revoke_all(user)
    audit("sessions.revoke_all", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
    db.session.commit()
    db.session.refresh(user)
    return user


def live_sessions(user_id: int) -> list[LoginSession]:
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    return list(
        db.session.scalars(
            sa.select(LoginSession)
            .where(
                LoginSession.user_id == user_id,
                LoginSession.revoked_at.is_(None),
                LoginSession.expires_at > now,
                LoginSession.last_seen_at > now - idle,
            )
            .order_by(LoginSession.last_seen_at.desc())
        )
    )


def _confirm_password(user: User, password: str | None, field: str) -> None:
    """Sensitive changes ask for the current password again."""
    if not passwords.verify_password(user.password_hash, password or ""):
        raise FieldInvalid(field, "That is not your current password.")


def change_password(user_id: int, current: str, new: str, client_ip: str | None = None) -> User:
    """Check the current password, set a new one and sign every other browser out. Commits."""
    user = get_user(user_id)
    if not passwords.verify_password(user.password_hash, current or ""):
        audit("password.change_refused", actor_id=user.id, client_ip=client_ip)
        db.session.commit()
        raise FieldInvalid("current_password", "That is not your current password.")
    if new == current:
        raise FieldInvalid("new_password", "Choose a password different from the current one.")
    try:
        passwords.check_policy(new, user.email, user.display_name)
    except passwords.PasswordRejected as rejected:
        raise FieldInvalid("new_password", rejected.message) from None
    user.password_hash = passwords.hash_password(new)
    _revoke_all(user)
    audit("password.change", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
    db.session.commit()
    db.session.refresh(user)
    return user


# -- two-factor sign-in ---------------------------------------------------------------------------


def mfa_required(user: User) -> bool:
    """``AURA_SUPERVISOR_MFA=required`` makes two-factor sign-in compulsory for supervisors."""
    return user.is_supervisor and current_app.config.get("SUPERVISOR_MFA") == "required"


def enable_mfa(user_id: int, secret: str, code: str, client_ip: str | None = None) -> list[str]:
    """Turn on TOTP once the user proves their app has the secret; return recovery codes (shown
    once, stored only as hashes). Commits."""
    user = get_user(user_id)
    if user.mfa_enabled:
        raise Invalid("Two-factor sign-in is already on for this account.")
    if not secret or not re.fullmatch(r"[A-Z2-7]{16,64}", secret):
        raise Invalid("The setup expired. Start the two-factor setup again.")
    if not mfa.verify_totp(secret, code, f"user:{user.id}"):
        raise FieldInvalid(
            "code", "That code is not right. Check your device's clock and type the newest code."
        )
    codes = mfa.new_recovery_codes()
    user.totp_secret = secret
    user.recovery_codes = [mfa.hash_recovery_code(code) for code in codes]
    audit("mfa.enable", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
    db.session.commit()
    return codes


def disable_mfa(user_id: int, password: str, client_ip: str | None = None) -> None:
    user = get_user(user_id)
    if mfa_required(user):
        raise Forbidden("Supervisors must keep two-factor sign-in on at this site.")
    _confirm_password(user, password, "password")
    user.totp_secret = None
    user.recovery_codes = None
    audit("mfa.disable", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
    db.session.commit()


def regenerate_recovery_codes(
    user_id: int, password: str, client_ip: str | None = None
) -> list[str]:
    """Replace every recovery code with ten new ones (shown once). Commits."""
    user = get_user(user_id)
    if not user.mfa_enabled:
        raise Invalid("Turn on two-factor sign-in first.")
    _confirm_password(user, password, "password")
    codes = mfa.new_recovery_codes()
    user.recovery_codes = [mfa.hash_recovery_code(code) for code in codes]
    audit("mfa.recovery_codes", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
    db.session.commit()
    return codes


def verify_second_factor(user_id: int, code: str, client_ip: str | None = None) -> bool:
    """A TOTP code, or an unused recovery code (which is then spent). Commits."""
    user = get_user(user_id)
    if user.totp_secret and mfa.verify_totp(user.totp_secret, code, f"user:{user.id}"):
        return True
    used = mfa.match_recovery_code(user.recovery_codes, code)
    if used is not None:
        user.recovery_codes = [stored for stored in user.recovery_codes or [] if stored != used]
        audit(
            "mfa.recovery_code_used",
            actor_id=user.id,
            target=f"user:{user.id}",
            detail={"left": len(user.recovery_codes)},
            client_ip=client_ip,
        )
        db.session.commit()
        return True
    audit("mfa.failure", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
    db.session.commit()
    return False
