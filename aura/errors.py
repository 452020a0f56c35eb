"""Domain errors raised by services; one handler turns each into a status and a page or fragment.

Bad input is always ``Invalid``. When the input came from a form, ``fields`` maps each field's
name to what is wrong with it, so the form can show every message beside its field
(``aura.forms.show_errors``); the message alone is what a page or a command line shows.
"""

from __future__ import annotations

from collections.abc import Mapping


class AuraError(Exception):
    status = 400
    title = "Something went wrong"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.title)
        self.message = message or self.title


class Invalid(AuraError):
    """Bad input: a clear message, and per-field messages when it came from a form."""

    status = 400
    title = "That request is not valid"

    def __init__(
        self,
        message: str | None = None,
        *,
        fields: Mapping[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        self.fields: dict[str, str] = dict(fields or {})
        if status is not None:
            self.status = status
        elif self.fields:
            self.status = 422
        super().__init__(message or " ".join(self.fields.values()) or None)

    @classmethod
    def field(cls, name: str, message: str) -> Invalid:
        """One form field is wrong."""
        return cls(message, fields={name: message})


class Unauthorized(AuraError):
    status = 401
    title = "Please sign in"


class Forbidden(AuraError):
    status = 403
    title = "You do not have access to this"


class NotFound(AuraError):
    status = 404
    title = "Not found"


class Conflict(AuraError):
    """The thing is busy or in a state that does not allow this now."""

    status = 409
    title = "That is not possible right now"


class Throttled(AuraError):
    """Too many attempts; ``retry_after`` is the true number of seconds until the next one."""

    status = 429
    title = "Too many attempts"

    def __init__(self, message: str | None = None, *, retry_after: int = 60) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message)


class UpstreamUnavailable(AuraError):
    status = 503
    title = "An outside service is not answering"


class Unavailable(AuraError):
    """A service Aura itself depends on (the database, Redis) is not answering: nothing was
    done; ``retry_after`` is a fair guess at when to try again."""

    status = 503
    title = "Aura is not answering for a moment"

    def __init__(self, message: str | None = None, *, retry_after: int = 30) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message)


class StorageFull(AuraError):
    """The disk holding media is full: nothing was kept (HTTP 507 Insufficient Storage)."""

    status = 507
    title = "Not enough space to store this"
