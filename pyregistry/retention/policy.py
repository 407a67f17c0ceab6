"""``storage.maintenance.retention``: per repository pattern, what to keep.

As Harbor's tag retention and zot's retention: a policy names repositories by glob
(``*`` within one path component, ``**`` across components) and keeps a tag when *any*
of its rules does: among the ``keeptags`` most recently pushed, matching one of
``keeppatterns`` (regular expressions, full match), or pushed within ``keepwithin``. A
policy with no tag rule keeps every tag. ``untaggedolderthan`` deletes manifests no kept
tag reaches (through indexes and referrers) once they are older than that. The first
policy whose pattern matches a repository applies; repositories no policy matches are
left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pyregistry.config.errors import ConfigError
from pyregistry.config.model import Config
from pyregistry.config.sections.maintenance import (
    DEFAULT_RETENTION_INTERVAL_SECONDS,
    RetentionPolicyConfig,
)

KEY = "storage.maintenance.retention"


def _glob(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    wildcards = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(part, re.escape(part)) for part in parts))


@dataclass(frozen=True)
class RetentionPolicy:
    repositories: tuple[re.Pattern[str], ...]
    keep_tags: int | None = None
    keep_patterns: tuple[re.Pattern[str], ...] = ()
    keep_within_seconds: float | None = None
    untagged_older_than_seconds: float | None = None

    def applies_to(self, repository: str) -> bool:
        return any(pattern.fullmatch(repository) for pattern in self.repositories)

    @property
    def has_tag_rules(self) -> bool:
        return (
            self.keep_tags is not None
            or bool(self.keep_patterns)
            or self.keep_within_seconds is not None
        )


@dataclass(frozen=True)
class RetentionSettings:
    enabled: bool = False
    interval_seconds: float = DEFAULT_RETENTION_INTERVAL_SECONDS
    dry_run: bool = False
    policies: tuple[RetentionPolicy, ...] = ()

    def policy_for(self, repository: str) -> RetentionPolicy | None:
        return next((p for p in self.policies if p.applies_to(repository)), None)


def _fail(message: str, key: str, config: Config) -> ConfigError:
    return ConfigError(message, key=f"{KEY}.{key}", source=config.source)


def _strings(value: Any, key: str, config: Config) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail("expected a string or a list of strings", key, config)
    return value


def _policy(entry: RetentionPolicyConfig, where: str, config: Config) -> RetentionPolicy:
    keep_tags = entry.keeptags
    if keep_tags is not None and keep_tags < 0:
        raise _fail("expected a number of tags (0 or more)", f"{where}.keeptags", config)
    patterns = []
    for text in _strings(entry.keeppatterns or [], f"{where}.keeppatterns", config):
        try:
            patterns.append(re.compile(text))
        except re.error as exc:
            raise _fail(f"bad regular expression {text!r}: {exc}", where, config) from None
    repositories = _strings(entry.repositories, f"{where}.repositories", config)
    return RetentionPolicy(
        repositories=tuple(_glob(p) for p in repositories),
        keep_tags=keep_tags,
        keep_patterns=tuple(patterns),
        keep_within_seconds=entry.keepwithin_seconds,
        untagged_older_than_seconds=entry.untaggedolderthan_seconds,
    )


def retention_settings(config: Config) -> RetentionSettings:
    """The retention job's settings from the configuration's typed ``storage`` section."""
    section = config.storage.retention
    return RetentionSettings(
        enabled=section.enabled,
        interval_seconds=section.interval_seconds,
        dry_run=section.dryrun,
        policies=tuple(
            _policy(p, f"policies[{i}]", config) for i, p in enumerate(section.policies)
        ),
    )
