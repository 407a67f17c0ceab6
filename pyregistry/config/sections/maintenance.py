"""``storage.maintenance.gc`` and ``.retention``: pyregistry's own maintenance jobs.

distribution has neither online collection nor retention, so these keys are pyregistry's
own (docs/garbage-collection.md, docs/retention.md). :mod:`pyregistry.gc.settings` and
:mod:`pyregistry.retention.policy` read them from here; the policy module adds the
checks a shape cannot say (a tag count of 0 or more, valid regular expressions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyregistry.config.declare import section, setting
from pyregistry.config.schema import ANY, BOOL, DURATION, INT, ListOf

DEFAULT_GC_INTERVAL_SECONDS = 24 * 3600.0
DEFAULT_GC_GRACE_SECONDS = 3600.0
DEFAULT_RETENTION_INTERVAL_SECONDS = 24 * 3600.0


@dataclass
class GCConfig:
    enabled: bool = setting(BOOL, default=False)
    interval_seconds: float = setting(DURATION, "interval", default=DEFAULT_GC_INTERVAL_SECONDS)
    #: nothing written more recently than this is collected
    grace_seconds: float = setting(DURATION, "grace", default=DEFAULT_GC_GRACE_SECONDS)
    deleteuntagged: bool = setting(BOOL, default=False)
    dryrun: bool = setting(BOOL, default=False)


@dataclass
class RetentionPolicyConfig:
    """One entry of ``policies``, as written (patterns are compiled by the policy)."""

    #: a glob or a list of globs
    repositories: Any = setting(ANY, required=True)
    keeptags: int | None = setting(INT)
    #: a regular expression or a list of them
    keeppatterns: Any = setting(ANY)
    keepwithin_seconds: float | None = setting(DURATION, "keepwithin")
    untaggedolderthan_seconds: float | None = setting(DURATION, "untaggedolderthan")


@dataclass
class RetentionConfig:
    enabled: bool = setting(BOOL, default=False)
    interval_seconds: float = setting(
        DURATION, "interval", default=DEFAULT_RETENTION_INTERVAL_SECONDS
    )
    dryrun: bool = setting(BOOL, default=False)
    policies: list[RetentionPolicyConfig] = setting(
        ListOf(section(RetentionPolicyConfig)), factory=list
    )
