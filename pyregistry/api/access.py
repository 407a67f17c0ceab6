"""The access a request needs, in distribution's words: resources and actions.

Resources are ``repository:<name>`` (actions ``pull``, ``push``, ``delete``; ``*`` grants
any) and ``registry:catalog`` (``*``). :func:`pyregistry.api.routes.required_access`
computes a :class:`RequiredAccess` once per request, after routing; the request context
carries it, auth enforces it and names it in its challenges.

This module imports nothing else from the API, so auth can share its vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

REPOSITORY = "repository"
REGISTRY = "registry"
CATALOG = "catalog"
PULL = "pull"
PUSH = "push"
DELETE = "delete"
ANY_ACTION = "*"


@dataclass(frozen=True, slots=True)
class Access:
    """One action on one resource, e.g. ``repository:library/alpine`` ``pull``."""

    type: str
    name: str
    action: str

    def detail(self) -> dict[str, str]:
        """The entry distribution (2.8 and 3.x) puts in an UNAUTHORIZED error's ``detail``
        list; ``Class`` is always empty there."""
        return {"Type": self.type, "Class": "", "Name": self.name, "Action": self.action}


@dataclass(frozen=True, slots=True)
class RequiredAccess:
    """What one request needs. Empty ``required`` (``/v2/`` itself) still means "valid
    credentials" to an access controller."""

    required: tuple[Access, ...] = ()
    #: ``pull`` on a mount's ``from`` repository: asked for in the challenge (so clients
    #: fetch a token for it) but not required - without it the mount becomes a plain
    #: upload (202), as the spec allows.
    mount_source: Access | None = None

    @property
    def wanted(self) -> tuple[Access, ...]:
        """Everything a challenge should name: the required access and the mount source."""
        return self.required + ((self.mount_source,) if self.mount_source else ())

    @property
    def actions(self) -> tuple[str, ...]:
        """The actions required (on the request's repository, or ``*`` on the catalog)."""
        return tuple(a.action for a in self.required)
