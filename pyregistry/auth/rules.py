"""Who may do what, per project, as in Harbor.

A project is the first path component of a repository name (``team/app/web`` belongs to
``team``). Members hold one role each: ``guest`` pulls, ``developer`` also pushes,
``maintainer`` also deletes, ``admin`` may do everything in the project (``*``) and manage
its members. System admins may do everything everywhere, the catalog included. A public
project lets anyone, even anonymous callers, pull. The rules file looks like::

    admins: [root]
    projects:
      library:
        public: true
        members: {alice: developer, bob: guest}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from pyregistry.auth.access import ANY_ACTION, DELETE, PULL, PUSH, REGISTRY, base_type
from pyregistry.auth.scopes import Scope

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "guest": frozenset({PULL}),
    "developer": frozenset({PULL, PUSH}),
    "maintainer": frozenset({PULL, PUSH, DELETE}),
    "admin": frozenset({PULL, PUSH, DELETE, ANY_ACTION}),
}
ROLES = tuple(ROLE_ACTIONS)
_PROJECT = re.compile(r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*")


def project_of(repository: str) -> str:
    return repository.split("/", 1)[0]


def check_project_name(name: str) -> None:
    if not _PROJECT.fullmatch(name):
        raise ValueError(
            f"invalid project name {name!r}: lower-case letters, digits and . _ - separators"
        )


@dataclass
class Project:
    name: str
    public: bool = False
    members: dict[str, str] = field(default_factory=dict)


@dataclass
class Rules:
    admins: set[str] = field(default_factory=set)
    projects: dict[str, Project] = field(default_factory=dict)

    def allowed(self, user: str | None, resource_type: str, name: str) -> frozenset[str]:
        """The actions ``user`` (None: anonymous) has on a resource."""
        if user is not None and user in self.admins:
            return frozenset({ANY_ACTION})
        if base_type(resource_type) == REGISTRY:
            return frozenset()
        if base_type(resource_type) != "repository":
            return frozenset()
        project = self.projects.get(project_of(name))
        if project is None:
            return frozenset()
        actions: set[str] = set()
        if project.public:
            actions.add(PULL)
        if user is not None and user in project.members:
            actions |= ROLE_ACTIONS[project.members[user]]
        return frozenset(actions)

    def grants_for(self, user: str | None) -> RuleGrants:
        return RuleGrants(self, user)

    def to_document(self) -> dict[str, Any]:
        return {
            "admins": sorted(self.admins),
            "projects": {
                name: {"public": p.public, "members": dict(sorted(p.members.items()))}
                for name, p in sorted(self.projects.items())
            },
        }

    def dump(self) -> bytes:
        header = "# pyregistry access rules (roles: guest, developer, maintainer, admin)\n"
        return (header + yaml.safe_dump(self.to_document(), sort_keys=False)).encode()


class RuleGrants:
    """:class:`~pyregistry.auth.access.Grants` backed by the rules, for one caller."""

    def __init__(self, rules: Rules, user: str | None) -> None:
        self.rules = rules
        self.user = user

    def allows(self, resource_type: str, name: str, action: str) -> bool:
        actions = self.rules.allowed(self.user, resource_type, name)
        return ANY_ACTION in actions or action in actions

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user in self.rules.admins


def intersect(allowed: frozenset[str], requested: tuple[str, ...]) -> list[str]:
    """The requested actions the caller has (``*`` allowed covers any; ``*`` requested
    needs ``*``)."""
    if ANY_ACTION in allowed:
        return list(requested)
    return [a for a in requested if a in allowed]


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of user names")
    return list(value)


def parse_rules(data: bytes) -> Rules:
    """Rules from YAML bytes; ValueError naming the bad key."""
    try:
        document = yaml.safe_load(data) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"not YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError("the rules file must be a mapping")
    unknown = set(document) - {"admins", "projects"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} (expected admins, projects)")
    rules = Rules(admins=set(_strings(document.get("admins"), "admins")))
    projects = document.get("projects") or {}
    if not isinstance(projects, dict):
        raise ValueError("projects must be a mapping of project name to settings")
    for name, settings in projects.items():
        name = str(name)
        check_project_name(name)
        settings = settings or {}
        if not isinstance(settings, dict):
            raise ValueError(f"projects.{name} must be a mapping")
        public = settings.get("public", False)
        if not isinstance(public, bool):
            raise ValueError(f"projects.{name}.public must be true or false")
        members = settings.get("members") or {}
        if not isinstance(members, dict):
            raise ValueError(f"projects.{name}.members must map user names to roles")
        for user, role in members.items():
            if role not in ROLE_ACTIONS:
                raise ValueError(
                    f"projects.{name}.members.{user}: unknown role {role!r} "
                    f"(one of {', '.join(ROLES)})"
                )
        rules.projects[name] = Project(name, public, {str(u): str(r) for u, r in members.items()})
    return rules


def grant(rules: Rules | None, user: str | None, scopes: list[Scope]) -> list[dict[str, Any]]:
    """The ``access`` claim for a token: each requested scope intersected with what the
    rules allow ``user`` (never more than was asked). Without rules, an authenticated
    user gets what they ask and an anonymous caller nothing."""
    merged: dict[tuple[str, str], list[str]] = {}
    for scope in scopes:
        resource_type = base_type(scope.type)
        if rules is None:
            allowed = frozenset({ANY_ACTION}) if user is not None else frozenset()
        else:
            allowed = rules.allowed(user, resource_type, scope.name)
        actions = merged.setdefault((resource_type, scope.name), [])
        for action in intersect(allowed, scope.actions):
            if action not in actions:
                actions.append(action)
    return [
        {"type": t, "name": n, "actions": actions} for (t, n), actions in merged.items() if actions
    ]
