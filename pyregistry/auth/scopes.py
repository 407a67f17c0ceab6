"""The resource scope grammar of distribution's ``docs/spec/auth/scope.md``.

``repository:host:5000/a/b:pull,push`` has more than two colons: the type ends at the
first one, the actions start after the last one, and the name is everything between.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TYPE = re.compile(r"[a-z0-9]+(?:\([a-z0-9]+\))?")
_HOSTCOMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOSTNAME = rf"{_HOSTCOMPONENT}(?:\.{_HOSTCOMPONENT})*(?::[0-9]+)?"
# distribution writes the separator ``[-]*``; it may be empty, which makes the group
# ambiguous and Python's backtracking exponential on a long name that fails to match
# (RE2 does not backtrack). ``-+`` accepts the same names.
_COMPONENT = r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"(?:{_HOSTNAME}/)?{_COMPONENT}(?:/{_COMPONENT})*")
_ACTION = re.compile(r"[a-z*]*")


def valid_resource_name(name: str) -> bool:
    """Whether ``name`` follows the grammar (it is then printable ASCII, fit for a header)."""
    return _NAME.fullmatch(name) is not None


class ScopeError(ValueError):
    """A scope string that does not follow the grammar."""


@dataclass(frozen=True, slots=True)
class Scope:
    """One ``resourcetype:resourcename:action[,action]*``."""

    type: str
    name: str
    actions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"


def parse_scope(text: str) -> Scope:
    """Parse one resource scope; raises :class:`ScopeError`."""
    resource_type, sep, rest = text.partition(":")
    name, sep2, actions_text = rest.rpartition(":")
    if not sep or not sep2:
        raise ScopeError(f"invalid scope {text!r}: expected type:name:actions")
    if not _TYPE.fullmatch(resource_type):
        raise ScopeError(f"invalid resource type in scope {text!r}")
    if not _NAME.fullmatch(name):
        raise ScopeError(f"invalid resource name in scope {text!r}")
    actions = tuple(a for a in actions_text.split(",") if a)
    if not all(_ACTION.fullmatch(a) for a in actions):
        raise ScopeError(f"invalid action in scope {text!r}")
    return Scope(resource_type, name, tuple(dict.fromkeys(actions)))


def parse_scopes(values: list[str]) -> list[Scope]:
    """Every scope in ``values``; each value may hold several, space-separated (the POST
    form's single ``scope`` field does)."""
    scopes: list[Scope] = []
    for value in values:
        for part in value.split():
            scopes.append(parse_scope(part))
    return scopes
