"""The vocabulary every access controller shares: what a request needs (:class:`Access`,
shared with the API through :mod:`pyregistry.api.access`),
what a caller was granted (:class:`Grants`), the outcome (:class:`AuthResult`) and the
refusal (:class:`AuthChallenge`).

Resources and actions are distribution's: ``repository:<name>`` with ``pull``, ``push``,
``delete`` (``*`` grants any action), and ``registry:catalog`` with ``*``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.requests import HTTPConnection

from pyregistry import errcode
from pyregistry.api.access import (
    ANY_ACTION,
    CATALOG,
    DELETE,
    PULL,
    PUSH,
    REGISTRY,
    REPOSITORY,
    Access,
)
from pyregistry.api.headers import API_VERSION, API_VERSION_VALUE
from pyregistry.errcode import Descriptor, RegistryError

__all__ = [
    "ANY_ACTION",
    "CATALOG",
    "DELETE",
    "PULL",
    "PUSH",
    "REGISTRY",
    "REPOSITORY",
    "Access",
    "AccessController",
    "AccessSet",
    "AllowAll",
    "AllowAllController",
    "AllowNothing",
    "AuthChallenge",
    "AuthResult",
    "Grants",
    "base_type",
]


def base_type(resource_type: str) -> str:
    """``repository(plugin)`` -> ``repository``: resource classes are ignored, as in
    distribution 3."""
    return resource_type.split("(", 1)[0]


class Grants(Protocol):
    """Answers "may the caller do this?" for one request."""

    def allows(self, resource_type: str, name: str, action: str) -> bool: ...


class AllowAll:
    """Every action on every resource (``auth: none``, plain htpasswd, system admins)."""

    def allows(self, resource_type: str, name: str, action: str) -> bool:
        return True


class AllowNothing:
    def allows(self, resource_type: str, name: str, action: str) -> bool:
        return False


class AccessSet:
    """Actions per ``(type, name)`` resource, as a token's ``access`` claim lists them.

    Insertion order is kept so that a challenge's ``scope`` reads ``pull,push``.
    """

    def __init__(self, items: Iterable[Access] = ()) -> None:
        self._actions: dict[tuple[str, str], list[str]] = {}
        for item in items:
            self.add(item.type, item.name, item.action)

    def add(self, resource_type: str, name: str, action: str) -> None:
        actions = self._actions.setdefault((base_type(resource_type), name), [])
        if action not in actions:
            actions.append(action)

    def allows(self, resource_type: str, name: str, action: str) -> bool:
        actions = self._actions.get((base_type(resource_type), name), ())
        return ANY_ACTION in actions or action in actions

    def resources(self) -> list[tuple[str, str, list[str]]]:
        return [(t, n, list(a)) for (t, n), a in self._actions.items()]

    def scope_param(self) -> str:
        """The value of a challenge's ``scope`` (RFC 6750): space-separated scopes."""
        return " ".join(f"{t}:{n}:{','.join(a)}" for (t, n), a in self._actions.items())

    def __bool__(self) -> bool:
        return bool(self._actions)


@dataclass
class AuthResult:
    """Who the caller is and what they may do; stored in ``scope["state"]["auth"]``."""

    actor: str | None
    #: Which controller decided: ``token``, ``htpasswd``, ``silly`` or ``none``.
    method: str
    grants: Grants = field(default_factory=AllowNothing)
    #: The verified token claims (token auth only).
    claims: dict[str, Any] | None = None
    #: True when the caller may pull from every repository (so a blob mount without
    #: ``from`` cannot leak a blob from a repository they could not read).
    global_pull: bool = False

    def can(self, resource_type: str, name: str, action: str) -> bool:
        """Later, finer checks (e.g. a mount's source repository)."""
        return self.grants.allows(resource_type, name, action)


class AuthChallenge(RegistryError):
    """A refusal: 401 ``UNAUTHORIZED`` with a ``WWW-Authenticate`` challenge, 403
    ``DENIED``, or 429 ``TOOMANYREQUESTS`` while locked out (``error`` says which).

    The body's ``detail`` lists the access asked for, as distribution's does."""

    def __init__(
        self,
        message: str,
        *,
        challenge: str | None,
        required: Sequence[Access] = (),
        error: Descriptor = errcode.UNAUTHORIZED,
        headers: dict[str, str] | None = None,
    ) -> None:
        all_headers = {API_VERSION: API_VERSION_VALUE}
        if challenge:
            all_headers["WWW-Authenticate"] = challenge
        all_headers.update(headers or {})
        detail = [a.detail() for a in required] or None
        super().__init__(message, detail, headers=all_headers, descriptor=error)
        self.challenge = challenge
        self.required = list(required)


class AccessController(Protocol):
    """Decides one request: returns an :class:`AuthResult` or raises
    :class:`AuthChallenge`. ``required`` is empty for ``/v2/`` itself, which still needs
    valid credentials."""

    async def authorize(
        self, request: HTTPConnection, required: Sequence[Access]
    ) -> AuthResult: ...


class AllowAllController:
    """``auth: none``: everyone may do everything (the middleware still records it)."""

    async def authorize(self, request: HTTPConnection, required: Sequence[Access]) -> AuthResult:
        return AuthResult(actor=None, method="none", grants=AllowAll(), global_pull=True)
