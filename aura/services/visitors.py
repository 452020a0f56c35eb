"""Who is asking: the one value every service that depends on the visitor takes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Visitor:
    """The person (or program) behind a request, as services need to know them.

    ``browser`` is a random key kept in this browser's session cookie; access grants are bound
    to it. ``client_ip`` is the address after the trusted proxy hops, never a raw header.
    """

    user_id: int | None = None
    supervisor: bool = False
    client_ip: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    browser: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    @property
    def sees_hidden(self) -> bool:
        """Supervisors see hidden films and videos (marked); nobody else does."""
        return self.supervisor


ANONYMOUS = Visitor()
