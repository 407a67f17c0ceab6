"""A policy as the service uses it: its settings checked and compiled (patterns, naming,
target), and what it is triggered by.

Names of policies become lease and storage names, so they are lower-case words joined
by ``.``, ``_`` or ``-``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyregistry.config.errors import ConfigError
from pyregistry.config.sections.replication import (
    PolicySettings,
    ReplicationSection,
    TargetSettings,
)
from pyregistry.replication.rules import Naming, Patterns

_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


@dataclass(frozen=True)
class Policy:
    settings: PolicySettings
    target: TargetSettings
    repositories: Patterns
    tags: Patterns
    naming: Naming

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def push(self) -> bool:
        return self.settings.direction == "push"

    @property
    def on_event(self) -> bool:
        """Push policies follow local events unless their triggers say otherwise."""
        triggers = self.settings.triggers
        return self.push and self.settings.enabled and ("event" in triggers or not triggers)

    @property
    def on_interval(self) -> bool:
        """Pull policies poll on their interval unless their triggers say otherwise."""
        triggers = self.settings.triggers
        interval = "interval" in triggers or (not self.push and not triggers)
        return self.settings.enabled and interval

    def wants_repository(self, name: str) -> bool:
        return self.repositories.matches(name) and self.naming.maps(name)

    def wants_tag(self, tag: str) -> bool:
        return self.tags.matches(tag)


def compile_policies(section: ReplicationSection, source: str = "<config>") -> list[Policy]:
    """The configured policies, checked; ConfigError names the key of the first problem."""

    def fail(message: str, key: str) -> ConfigError:
        return ConfigError(message, key=key, source=source)

    targets: dict[str, TargetSettings] = {}
    for i, written in enumerate(section.targets):
        if written.name in targets:
            raise fail(f"a second target named {written.name!r}", f"replication.targets[{i}].name")
        if not written.url.startswith(("http://", "https://")):
            raise fail("expected an http:// or https:// URL", f"replication.targets[{i}].url")
        targets[written.name] = written
    policies: list[Policy] = []
    for i, settings in enumerate(section.policies):
        at = f"replication.policies[{i}]"
        if not _NAME.fullmatch(settings.name):
            raise fail("lower-case letters and digits joined by . _ or -", f"{at}.name")
        if any(p.name == settings.name for p in policies):
            raise fail(f"a second policy named {settings.name!r}", f"{at}.name")
        if settings.target not in targets:
            raise fail(f"no target named {settings.target!r}", f"{at}.target")
        target = targets[settings.target]
        if settings.direction == "pull" and "event" in settings.triggers:
            raise fail("a pull policy cannot follow local events", f"{at}.triggers")
        try:
            naming = Naming.from_settings(settings.destination)
            repositories = Patterns.from_settings(settings.repositories)
            tags = Patterns.from_settings(settings.tags)
        except re.error as exc:
            raise fail(f"bad pattern: {exc}", f"{at}.destination") from None
        policies.append(Policy(settings, target, repositories, tags, naming))
    return policies
