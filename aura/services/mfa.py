"""Two-factor sign-in: TOTP codes (RFC 6238, any authenticator app) and one-time recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime

import pyotp
import segno
from flask import current_app

from aura.caching import claim_once
from aura.models import User
from aura.services import values

ISSUER = "Aura"
RECOVERY_CODE_COUNT = 10
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L to misread
_CODE = re.compile(r"[0-9]{6}", re.ASCII)


def required_for(user: User) -> bool:
    """``AURA_SUPERVISOR_MFA=required`` makes two-factor sign-in compulsory for supervisors."""
    return user.is_supervisor and current_app.config.get("SUPERVISOR_MFA") == "required"


def new_secret() -> str:
    """160 random bits, base32, as authenticator apps expect."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The provisioning URI as an SVG QR code, made here, as a data: URI for an <img>."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=3, dark="#0b0d12", light="#fff")


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _clean(code: str) -> str:
    """The code in ASCII: digits typed on any keyboard count (``١٢٣٤٥٦`` is ``123456``)."""
    return values.ascii_digits(code, keep=_ALPHABET)


def verify_totp(secret: str, code: str, user_key: str, now: float | None = None) -> bool:
    """Check a 6-digit code (one step of clock drift either way); a code works only once."""
    code = _clean(code)
    if not _CODE.fullmatch(code):
        return False
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if hmac.compare_digest(totp.at(at), code):
            step = totp.timecode(datetime.fromtimestamp(at, UTC))
            # Refuse a replay of the same code within its window, across processes with Redis
            # (and refuse every code while Redis cannot say whether it was used).
            return claim_once(f"mfa:used:{user_key}:{step}", timeout=totp.interval * 4)
    return False


def new_recovery_codes() -> list[str]:
    """Ten codes like ``K7QF-9MZT-X2``: about 50 random bits each."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def hash_recovery_code(code: str) -> str:
    # The codes are random and long, so a plain hash is enough to keep them unreadable at rest.
    return hashlib.sha256(_clean(code).upper().encode()).hexdigest()


def match_recovery_code(hashes: list[str] | None, code: str) -> str | None:
    """The stored hash the code matches, or None."""
    cleaned = _clean(code)
    if not hashes or not 8 <= len(cleaned) <= 16:
        return None
    wanted = hash_recovery_code(cleaned)
    found = None
    for stored in hashes:
        if hmac.compare_digest(stored, wanted):
            found = stored
    return found
