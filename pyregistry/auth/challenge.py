"""``WWW-Authenticate`` challenges (the refusals that carry them are
:class:`~pyregistry.auth.access.AuthChallenge`, answered by the API's ``error_response``).

Bearer challenges follow RFC 6750 section 3 the way distribution writes them:
``Bearer realm="…",service="…",scope="repository:a:pull,push"`` plus
``error="invalid_token"`` for a bad token or ``error="insufficient_scope"`` for a valid
one that grants too little; no ``error`` when there was no token at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyregistry.auth.access import Access, AccessSet

INVALID_TOKEN = "invalid_token"
INSUFFICIENT_SCOPE = "insufficient_scope"


def _escape(char: str) -> str:
    if char in ('"', "\\"):
        return "\\" + char
    if " " <= char <= "~":
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def quote(value: str) -> str:
    """A quoted-string as Go's ``%q`` writes it, every character outside printable ASCII
    escaped: whatever a value holds, the header stays legal (no CR, LF or NUL, no
    character Latin-1 cannot encode)."""
    return '"' + "".join(_escape(char) for char in value) + '"'


def bearer_challenge(
    realm: str, service: str, required: Sequence[Access], error: str | None = None
) -> str:
    parts = [f"Bearer realm={quote(realm)}", f"service={quote(service)}"]
    scope = AccessSet(required).scope_param()
    if scope:
        parts.append(f"scope={quote(scope)}")
    if error:
        parts.append(f"error={quote(error)}")
    return ",".join(parts)


def basic_challenge(realm: str) -> str:
    return f"Basic realm={quote(realm)}"
