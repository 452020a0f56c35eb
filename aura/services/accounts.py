"""Accounts: registration, checking credentials, password changes and two-factor sign-in.

Every rule about who may sign in lives here; signed-in browsers are ``aura.sessions``. The auth
views only move values between forms, the session cookie and these functions.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from aura import sessions
from aura.errors import Forbidden, Invalid, NotFound
from aura.extensions import db
from aura.models import User
from aura.services import audit, mfa, passwords, throttles, values
from aura.services.emails import normalise_email

NAME_MAX = 80
LOGIN_FAILED = "That email and password do not match an account. Check both and try again."
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
    """Create a viewer account from the sign-up form. Commits.

    Every attempt counts against the address, so the form (which says when an email already
    has an account) cannot test a list of emails at speed.
    """
    checks = [(REGISTER_PER_ADDRESS, throttles.key_of("ip", client_ip or "unknown"))]
    throttles.refuse(
        checks,
        "Too many accounts tried from this address. Try again in {wait}.",
        action="auth.throttled",
        target="register",
        client_ip=client_ip,
    )
    throttles.fail(checks)
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


# Failed sign-ins and second factors. A browser that signed in to the account before (its
# device cookie) is limited on its own; every other client is limited per account and per
# address, so an attacker's guesses never lock the owner's own browser out.
SIGN_IN_PER_DEVICE = throttles.Limit.of("sign-in per browser", "10 per 15 minutes")
SIGN_IN_PER_ACCOUNT = throttles.Limit.of("sign-in per account", "10 per 15 minutes")
SIGN_IN_PER_ADDRESS = throttles.Limit.of("sign-in per address", "30 per 15 minutes")
SIGN_IN_PER_ADDRESS_DAY = throttles.Limit.of("sign-in per address and day", "300 per day")
CODE_PER_DEVICE = throttles.Limit.of("second factor per browser", "10 per 15 minutes")
CODE_PER_ACCOUNT = throttles.Limit.of("second factor per account", "10 per 15 minutes")
PASSWORD_CHECK_PER_USER = throttles.Limit.of("current password per user", "10 per 15 minutes")
REGISTER_PER_ADDRESS = throttles.Limit.of("registration per address", "20 per hour")


def _sign_in_checks(
    account: str, device: str | None, client_ip: str | None, *, second_factor: bool = False
) -> list[throttles.Check]:
    if device is not None:
        limit = CODE_PER_DEVICE if second_factor else SIGN_IN_PER_DEVICE
        return [(limit, throttles.key_of(account, device))]
    address = throttles.key_of("ip", client_ip or "unknown")
    if second_factor:
        return [(CODE_PER_ACCOUNT, account), (SIGN_IN_PER_ADDRESS, address)]
    return [
        (SIGN_IN_PER_ACCOUNT, account),
        (SIGN_IN_PER_ADDRESS, address),
        (SIGN_IN_PER_ADDRESS_DAY, address),
    ]


def _refuse_sign_in(checks: list[throttles.Check], trusted: bool, target: str | None, ip) -> None:
    message = (
        "Too many wrong passwords from this browser. Try again in {wait}."
        if trusted
        else "Too many failed sign-ins. Try again in {wait}, or sign in from a browser you "
        "have signed in from before."
    )
    throttles.refuse(checks, message, action="login.throttled", target=target, client_ip=ip)


def authenticate(
    email: str, password: str, client_ip: str | None = None, device: str | None = None
) -> User:
    """The account these credentials open, or LoginFailed (Throttled while guessing is).

    ``device`` is this browser's device id for the account, when it signed in to it before.
    An unknown email and a wrong password get the same answer after the same hashing work, so
    the form does not tell which emails have accounts, and lockouts happen alike for both.
    Failures are written to the audit trail.
    """
    checks = _sign_in_checks(sessions.account_key(email), device, client_ip)
    try:
        email = normalise_email(email)
    except Invalid:
        email = values.one_line(email, 200)
        user = None
    else:
        user = find_by_email(email)
    _refuse_sign_in(checks, device is not None, email or None, client_ip)
    correct = passwords.verify_password(user.password_hash if user else None, password or "")
    if user is not None and correct and user.active:
        return user
    throttles.fail(checks)
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


def _confirm_password(
    user: User, password: str | None, field: str, client_ip: str | None = None
) -> None:
    """Sensitive changes ask for the current password again (guessing it is throttled)."""
    checks = [(PASSWORD_CHECK_PER_USER, throttles.key_of("user", user.id))]
    throttles.refuse(
        checks,
        "Too many wrong passwords. Try again in {wait}.",
        action="auth.throttled",
        target=f"user:{user.id}",
        actor_id=user.id,
        client_ip=client_ip,
    )
    if not passwords.verify_password(user.password_hash, password or ""):
        throttles.fail(checks)
        raise Invalid.field(field, "That is not your current password.")


def change_password(user_id: int, current: str, new: str, client_ip: str | None = None) -> User:
    """Check the current password, set a new one and sign every browser out (the caller signs
    this one in again). Commits."""
    user = get_user(user_id)
    try:
        _confirm_password(user, current, "current_password", client_ip)
    except Invalid:
        audit.record("password.change_refused", actor_id=user.id, client_ip=client_ip)
        db.session.commit()
        raise
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
    _confirm_password(user, password, "password", client_ip)
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
    _confirm_password(user, password, "password", client_ip)
    codes = mfa.new_recovery_codes()
    user.recovery_codes = [mfa.hash_recovery_code(code) for code in codes]
    audit.record(
        "mfa.recovery_codes", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip
    )
    db.session.commit()
    return codes


def verify_second_factor(
    user_id: int, code: str, client_ip: str | None = None, device: str | None = None
) -> bool:
    """A TOTP code, or an unused recovery code (which is then spent). Commits.

    Wrong codes are throttled like passwords (Throttled): per browser for one that signed in
    to the account before (``device``), else per account and per address. Codes typed with
    other digits (Arabic-Indic, full-width) are read as the same digits, and count as tries.
    """
    user = get_user(user_id)
    checks = _sign_in_checks(
        sessions.account_key(user.email), device, client_ip, second_factor=True
    )
    throttles.refuse(
        checks,
        "Too many wrong codes. Try again in {wait}.",
        action="login.throttled",
        target=f"user:{user.id}",
        actor_id=user.id,
        client_ip=client_ip,
    )
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
    throttles.fail(checks)
    audit.record("mfa.failure", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
    db.session.commit()
    return False
