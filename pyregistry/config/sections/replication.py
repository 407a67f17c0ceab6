"""``replication``: copy images to and from other registries (docs/replication.md).

Targets say where another registry is and how to log in; policies say what goes which
way and when. :mod:`pyregistry.replication.settings` checks what needs more than a type
(a policy naming an unknown target, a pattern that does not compile).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyregistry.config.declare import Section, section, setting
from pyregistry.config.schema import BOOL, COUNT, DURATION, STR, STRLIST, ListOf, Scalar
from pyregistry.config.sections.credential_helper import HelperSettings

DIRECTIONS = ("push", "pull")
TRIGGERS = ("event", "interval", "manual")
NAMINGS = ("keep", "add-prefix", "strip-prefix", "rewrite")


@dataclass
class TargetSettings:
    """Another registry: its URL and credentials (anonymous when none are given)."""

    name: str = setting(STR, default="", required=True)
    url: str = setting(STR, default="", required=True)
    #: the target's own ``replication.id`` when it is a pyregistry (default: ``name``);
    #: a change that came from it is never sent back to it
    id: str = setting(STR, default="")
    username: str | None = setting(STR)
    password: str | None = setting(STR)
    #: a pre-set bearer token (instead of username/password)
    token: str | None = setting(STR)
    #: a Docker credential helper giving the login instead (as ``proxy.exec``)
    exec: HelperSettings = setting(section(HelperSettings), factory=HelperSettings)
    #: a CA bundle to trust for this target
    ca: str | None = setting(STR, "tls.ca")
    insecure: bool = setting(BOOL, "tls.insecure", default=False)
    #: blobs and manifests in flight to or from this target at once
    concurrency: int = setting(COUNT, default=4)
    #: blobs at least this large go in resumable chunks of this size (0: one PUT)
    chunksize: int = setting(COUNT, default=16 * 1024 * 1024)
    timeout: float = setting(DURATION, default=60.0)

    @property
    def registry_id(self) -> str:
        return self.id or self.name


@dataclass
class PatternSettings:
    include: list[str] = setting(STRLIST, factory=list)
    exclude: list[str] = setting(STRLIST, factory=list)


@dataclass
class DestinationSettings:
    """How a source repository name becomes the destination's."""

    naming: str = setting(Scalar("choice", NAMINGS), default="keep")
    prefix: str = setting(STR, default="")
    #: ``rewrite``: a regular expression matched against the whole name ...
    pattern: str = setting(STR, "from", default="")
    #: ... and its replacement (``\\1`` for groups)
    replacement: str = setting(STR, "to", default="")


@dataclass
class PolicySettings:
    name: str = setting(STR, default="", required=True)
    target: str = setting(STR, default="", required=True)
    direction: str = setting(Scalar("choice", DIRECTIONS), default="push")
    #: push: ``event`` (the default) or ``interval``; pull: ``interval`` (the default)
    triggers: list[str] = setting(ListOf(Scalar("choice", TRIGGERS)), factory=list)
    interval: float = setting(DURATION, default=300.0)
    enabled: bool = setting(BOOL, default=True)
    repositories: PatternSettings = setting(section(PatternSettings), factory=PatternSettings)
    tags: PatternSettings = setting(section(PatternSettings), factory=PatternSettings)
    destination: DestinationSettings = setting(
        section(DestinationSettings), factory=DestinationSettings
    )
    #: deletes at the source are made at the destination too
    deletes: bool = setting(BOOL, default=False)
    #: copy referrers (signatures, SBOMs) with their subject
    referrers: bool = setting(BOOL, default=True)
    #: push: how many times a change is tried before it is recorded as failed
    retries: int = setting(COUNT, default=10)
    #: push: the first wait between tries (doubled each time, at most ``maxbackoff``)
    backoff: float = setting(DURATION, default=1.0)
    maxbackoff: float = setting(DURATION, default=300.0)


@dataclass(eq=False)
class ReplicationSection(Section):
    NAME = "replication"

    #: this registry's name in the origin chain of what it replicates (loop freedom)
    id: str = setting(STR, default="")
    targets: list[TargetSettings] = setting(
        ListOf(section(TargetSettings), "a list of targets"), factory=list
    )
    policies: list[PolicySettings] = setting(
        ListOf(section(PolicySettings), "a list of policies"), factory=list
    )
    #: how often the push queue is looked at when no local event woke it
    poll: float = setting(DURATION, "queue.poll", default=0.5)
    #: how long a policy's job stays with an instance that died holding it
    lease: float = setting(DURATION, "queue.lease", default=10.0)
    #: an upload session record (a chunked blob's resume point at a target) that made
    #: no progress for this long is removed by the push job's sweep
    stale_sessions: float = setting(DURATION, "queue.stalesessions", default=86400.0)
    #: how many execution records are kept per policy (in storage, shared by instances)
    history: int = setting(COUNT, "history.keep", default=20)
