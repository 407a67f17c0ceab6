"""Who is acting: a :class:`Principal` is passed to every service call.

The web front end (JSON API or UI) authenticates the caller and builds the principal; the
service layer decides what it may do (``authority``). Storage writes the service makes
run ``acting_as`` a caller built from it, so the audit log and webhook notifications
name the principal.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """``user`` None is an anonymous caller; ``via`` says how they proved it (``basic``,
    ``bearer``, ``session``, or ``anonymous``); ``address`` is the client's."""

    user: str | None
    address: str | None = None
    via: str = "anonymous"
    user_agent: str | None = None
    request_id: str = field(default_factory=lambda: secrets.token_hex(8))

    @classmethod
    def anonymous(cls, address: str | None = None) -> Principal:
        return cls(None, address)

    @property
    def name(self) -> str:
        """For messages and logs."""
        return self.user or "anonymous"
