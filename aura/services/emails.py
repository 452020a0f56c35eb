"""Email addresses as accounts know them: one spelling per person."""

from __future__ import annotations

import re
import unicodedata

from aura.errors import Invalid

EMAIL_MAX = 254
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.][^@\s]*\.[^@\s]+")
# Characters that have no place in an address people type, and would be markup if echoed.
_MARKUP = set("<>\"'`&\\;(),[]:")


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
