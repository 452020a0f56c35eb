"""Accounts: registration, checking credentials, password changes and two-factor sign-in.

Every rule about who may sign in lives here; signed-in browsers are ``aura.sessions``. The auth
views only move values between forms, the session cookie and these functions.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from aura import sessions
from aura.errors import Forbidden, Invalid, NotFound
from aura.extensions import db
from aura.models import User
from aura.services import audit, mfa, passwords, values

EMAIL_MAX = 254
NAME_MAX = 80
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.][^@\s]*\.[^@\s]+")
LOGIN_FAILED = "That email and password do not match an account. Check both and try again."
# Characters that have no place in an address people type, and would be markup if echoed.
_MARKUP = set("<>\"'`&\\;(),[]:")
DEMO_ACCOUNTS = (
    ("viewer@aura.local", "Demo Viewer", "viewer"),
    ("supervisor@aura.local", "Demo Supervisor", "supervisor"),
)


class LoginFailed(Invalid):
    title = "Sign-in failed"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    password: str


# -- values ---------------------------------------------------------------------------------------


def normalise_email(raw: str | None) -> str:
    """Trimmed, NFKC-normalised and case-folded, so ``Ann@Example.com``, ``ann@example.com`` and
    the same letters typed full-width are one account."""
    email = unicodedata.normalize("NFKC", (raw or "").strip()).casefold()
    email = unicodedata.normalize("NFKC", email)  # case-folding can leave a composable form
    if not email:
        raise Invalid.field("email", "Enter your email address.")
    local = email.rpartition("@")[0]
    if (
        len(email) > EMAIL_MAX
        or not _EMAIL.fullmatch(email)
        or not all(ch.isprintable() for ch in email)
        or any(ch in _MARKUP for ch in local)
    ):
        raise Invalid.field("email", "Enter a valid email address, like name@example.com.")
    return email


def clean_display_name(raw: str | None) -> str:
    """Printable characters only, whitespace collapsed, 1 to 80 characters."""
    name = values.one_line(raw)
    if not name:
        raise Invalid.field("display_name", "Enter the name other people will see.")
    if len(name) > NAME_MAX:
        raise Invalid.field("display_name", f"Use at most {NAME_MAX} characters.")
    return name


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
        raise Invalid.field("password", rejected.message) from None
    exists = Invalid.field("email", "An account with this email already exists. Sign in instead.")
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
    audit.record(
        "account.register", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip
    )
    db.session.commit()
    return user


def create_user(
    email: str, password: str, display_name: str | None = None, supervisor: bool = False
) -> User:
    """Create an account from the command line. Commits."""
    role = "supervisor" if supervisor else "viewer"
    user = _new_user(email, display_name, password, role)
    audit.record("user.create", actor_id=None, target=f"user:{user.id}", detail={"role": role})
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
    except Invalid:
        email = values.one_line(email, 200)
        user = None
    else:
        user = find_by_email(email)
    correct = passwords.verify_password(user.password_hash if user else None, password or "")
    if user is not None and correct and user.active:
        return user
    reason = "unknown email" if user is None else "wrong password" if not correct else "inactive"
    audit.record(
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


def _confirm_password(user: User, password: str | None, field: str) -> None:
    """Sensitive changes ask for the current password again."""
    if not passwords.verify_password(user.password_hash, password or ""):
        raise Invalid.field(field, "That is not your current password.")


def change_password(user_id: int, current: str, new: str, client_ip: str | None = None) -> User:
    """Check the current password, set a new one and sign every browser out (the caller signs
    this one in again). Commits."""
    user = get_user(user_id)
    if not passwords.verify_password(user.password_hash, current or ""):
        audit.record("password.change_refused", actor_id=user.id, client_ip=client_ip)
        db.session.commit()
        raise Invalid.field("current_password", "That is not your current password.")
    if new == current:
        raise Invalid.field("new_password", "Choose a password different from the current one.")
    try:
        passwords.check_policy(new, user.email, user.display_name)
    except passwords.PasswordRejected as rejected:
        raise Invalid.field("new_password", rejected.message) from None
    user.password_hash = passwords.hash_password(new)
    sessions.revoke_all(user.id)
    audit.record("password.change", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
    db.session.commit()
    db.session.refresh(user)
    return user


# -- two-factor sign-in ---------------------------------------------------------------------------


def enable_mfa(user_id: int, secret: str, code: str, client_ip: str | None = None) -> list[str]:
    """Turn on TOTP once the user proves their app has the secret; return recovery codes (shown
    once, stored only as hashes). Commits."""
    user = get_user(user_id)
    if user.mfa_enabled:
        raise Invalid("Two-factor sign-in is already on for this account.")
    if not secret or not re.fullmatch(r"[A-Z2-7]{16,64}", secret):
        raise Invalid("The setup expired. Start the two-factor setup again.")
    if not mfa.verify_totp(secret, code, f"user:{user.id}"):
        raise Invalid.field(
            "code", "That code is not right. Check your device's clock and type the newest code."
        )
    codes = mfa.new_recovery_codes()
    user.totp_secret = secret
    user.recovery_codes = [mfa.hash_recovery_code(code) for code in codes]
    audit.record("mfa.enable", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
    db.session.commit()
    return codes


def disable_mfa(user_id: int, password: str, client_ip: str | None = None) -> None:
    user = get_user(user_id)
    if mfa.required_for(user):
        raise Forbidden("Supervisors must keep two-factor sign-in on at this site.")
    _confirm_password(user, password, "password")
    user.totp_secret = None
    user.recovery_codes = None
    audit.record("mfa.disable", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
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
    audit.record(
        "mfa.recovery_codes", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip
    )
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
        audit.record(
            "mfa.recovery_code_used",
            actor_id=user.id,
            target=f"user:{user.id}",
            detail={"left": len(user.recovery_codes)},
            client_ip=client_ip,
        )
        db.session.commit()
        return True
    audit.record("mfa.failure", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
    db.session.commit()
    return False
