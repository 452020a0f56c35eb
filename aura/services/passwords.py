"""Password rules and hashing: long enough, not too long, not common, not the user's own name.

Passwords are hashed with werkzeug's scrypt, which reads every byte of the password (no 72-byte
truncation as with bcrypt); the upper bound of 128 characters keeps hashing cheap for everyone.
"""

from __future__ import annotations

import gzip
import os
import re
import unicodedata
from difflib import SequenceMatcher
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from aura.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 128
MAX_SIMILARITY = 0.7  # the same threshold Django uses for user attributes
HASH_METHOD = "scrypt"
COMMON_PASSWORDS_FILE = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "data", "common-passwords.txt.gz"
)
# What people put around a common password to pass a length rule: digits, symbols, a year.
_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")


class PasswordRejected(Invalid):
    title = "Choose a different password"


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of the most common passwords, lowercased (see aura/data/README.md)."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def is_common(password: str) -> bool:
    """In the list, or a listed password padded with digits and symbols (``iloveyou2024!``)."""
    common = common_passwords()
    lowered = _normalise(password).strip()
    if lowered in common:
        return True
    core = _PADDING.sub("", lowered)
    if len(core) >= 4 and core in common:
        return True
    # One short chunk repeated (``abcabcabcabc``, ``qwertyqwerty``) is as guessable as the chunk.
    return re.fullmatch(r"(.{1,6}?)\1+", lowered) is not None


def _similar(password: str, attribute: str) -> bool:
    if len(attribute) < 3:
        return False
    matcher = SequenceMatcher(a=password, b=attribute)
    return matcher.quick_ratio() >= MAX_SIMILARITY and matcher.ratio() >= MAX_SIMILARITY


def too_similar(password: str, email: str = "", display_name: str = "") -> bool:
    """Whether the password is close to the email, its parts or the display name, or holds the
    email's local part or the display name whole (``jane.doe`` in ``jane.doe-2024!!``)."""
    lowered = _normalise(password)
    email, name = _normalise(email), _normalise(display_name)
    local = email.partition("@")[0]
    if any(len(whole) >= 4 and whole in lowered for whole in (local, name.replace(" ", ""))):
        return True
    attributes = {email, local, name}
    for value in (email, name):
        attributes.update(part for part in re.split(r"[\W_]+", value) if part)
    return any(_similar(lowered, attribute) for attribute in attributes if attribute)


def check_policy(password: str, email: str = "", display_name: str = "") -> None:
    """Raise PasswordRejected with a message a person can act on, or return for a good one."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"Use at most {MAX_LENGTH} characters.")
    if "\x00" in password:
        raise PasswordRejected("A password cannot contain a NUL character.")
    if is_common(password):
        raise PasswordRejected(
            "That password is one of the most common ones. Choose something less guessable, "
            "such as a few unrelated words."
        )
    if too_similar(password, email, display_name):
        raise PasswordRejected("That password is too close to your email or name.")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


@cache
def _decoy_hash() -> str:
    # Checked against when the email is unknown, so that answer costs the same work.
    return generate_password_hash("an unused decoy password", method=HASH_METHOD)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown account) still do the same work and say no."""
    if len(password) > MAX_LENGTH:
        return False
    if password_hash is None:
        check_password_hash(_decoy_hash(), password)
        return False
    return check_password_hash(password_hash, password)
