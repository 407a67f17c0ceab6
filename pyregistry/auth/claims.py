"""Checking a token's claim set: issuer, audience, validity window, and what it grants.

As distribution: ``iss`` must equal the configured issuer, ``aud`` (a string or a list)
must contain the service, ``exp``/``nbf`` are checked with 60 s leeway (a missing ``exp``
is expired), ``sub`` is the caller, ``access`` lists ``{type, name, actions}``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pyregistry.auth.access import AccessSet

LEEWAY_SECONDS = 60


class InvalidClaims(ValueError):
    """A claim set this registry must not accept."""


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidClaims(f"claim {name!r} is not a number")
    return float(value)


def audiences(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if value is None:
        return []
    raise InvalidClaims("claim 'aud' is neither a string nor a list of strings")


def access_set(value: Any) -> AccessSet:
    """The ``access`` claim as an :class:`AccessSet` (null or absent: nothing)."""
    result = AccessSet()
    if value is None:
        return result
    if not isinstance(value, list):
        raise InvalidClaims("claim 'access' is not a list")
    for entry in value:
        if not isinstance(entry, dict):
            raise InvalidClaims("an 'access' entry is not an object")
        rtype, name, actions = entry.get("type"), entry.get("name"), entry.get("actions")
        if not isinstance(rtype, str) or not isinstance(name, str):
            raise InvalidClaims("an 'access' entry lacks type or name")
        if actions is None:
            actions = []
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
            raise InvalidClaims("an 'access' entry's actions are not a list of strings")
        for action in actions:
            result.add(rtype, name, action)
    return result


@dataclass(frozen=True)
class VerifiedClaims:
    subject: str
    access: AccessSet
    raw: dict[str, Any]


def check_claims(
    claims: dict[str, Any], *, issuer: str, service: str, now: float | None = None
) -> VerifiedClaims:
    """The claims, once every check passed; InvalidClaims otherwise."""
    if claims.get("iss") != issuer:
        raise InvalidClaims(f"token from untrusted issuer {claims.get('iss')!r}")
    if service not in audiences(claims.get("aud")):
        raise InvalidClaims(f"token intended for another audience: {claims.get('aud')!r}")
    current = time.time() if now is None else now
    if current > _number(claims, "exp") + LEEWAY_SECONDS:
        raise InvalidClaims("token expired")
    if current < _number(claims, "nbf") - LEEWAY_SECONDS:
        raise InvalidClaims("token not valid yet")
    subject = claims.get("sub", "")
    if not isinstance(subject, str):
        raise InvalidClaims("claim 'sub' is not a string")
    return VerifiedClaims(subject=subject, access=access_set(claims.get("access")), raw=claims)
