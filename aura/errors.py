"""Domain errors raised by services; one handler turns each into a status and a page or fragment."""

from __future__ import annotations


class AuraError(Exception):
    status = 400
    title = "Something went wrong"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.title)
        self.message = message or self.title


class Invalid(AuraError):
    status = 400
    title = "That request is not valid"


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
    status = 409
    title = "That conflicts with what is already there"


class Throttled(AuraError):
    status = 429
    title = "Too many attempts, please wait a moment"


class UpstreamUnavailable(AuraError):
    status = 503
    title = "An outside service is not answering"
