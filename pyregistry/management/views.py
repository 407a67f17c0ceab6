"""What the service layer answers: plain dataclasses, each with ``as_dict()`` giving the
JSON the management API sends (the UI renders the same fields).

Times are Unix seconds (floats); sizes are bytes; None means unknown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class View:
    def as_dict(self) -> dict[str, Any]:
        fields: dict[str, Any] = asdict(self)  # type: ignore[call-overload]
        return fields


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list: ``total`` items in all, this page from ``offset``.
    ``next`` is an opaque cursor for lists paged by cursor (the audit log)."""

    items: list[T]
    total: int | None
    offset: int
    limit: int
    next: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": [i.as_dict() if hasattr(i, "as_dict") else i for i in self.items],
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "next": self.next,
        }


@dataclass(frozen=True)
class RepositorySummary(View):
    name: str
    project: str
    tag_count: int
    #: Bytes of the distinct blobs its manifests reference, themselves included, from
    #: the metadata index (None: no index to ask).
    size: int | None
    pushed_at: float | None


@dataclass(frozen=True)
class Platform(View):
    os: str
    architecture: str
    variant: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class TagSummary(View):
    name: str
    digest: str
    media_type: str | None
    #: Manifest plus what it references (config and layers; an index: its manifests).
    size: int | None
    platforms: list[Platform]
    pushed_at: float | None


@dataclass(frozen=True)
class Descriptor(View):
    digest: str
    media_type: str | None
    size: int | None
    annotations: dict[str, str] = field(default_factory=dict)
    platform: Platform | None = None
    artifact_type: str | None = None


@dataclass(frozen=True)
class HistoryStep(View):
    created: str | None
    created_by: str | None
    comment: str | None
    empty_layer: bool


@dataclass(frozen=True)
class ManifestDetail(View):
    repository: str
    digest: str
    media_type: str
    size: int
    #: Manifest plus config and layers (an index: its manifests).
    total_size: int
    tags: list[str]
    config: Descriptor | None
    layers: list[Descriptor]
    #: The manifests of an index (multi-platform image), with their platforms.
    manifests: list[Descriptor]
    platforms: list[Platform]
    history: list[HistoryStep]
    labels: dict[str, str]
    annotations: dict[str, str]
    #: Signatures, SBOMs, attestations: manifests whose subject is this one.
    referrers: list[Descriptor]
    subject: str | None
    artifact_type: str | None
    created: str | None


@dataclass(frozen=True)
class Member(View):
    user: str
    role: str


@dataclass(frozen=True)
class ProjectSummary(View):
    name: str
    public: bool
    members: list[Member]
    #: The caller's role in it (``admin``/``maintainer``/``developer``/``guest``/``public``).
    role: str | None


@dataclass(frozen=True)
class UserSummary(View):
    name: str
    admin: bool


@dataclass(frozen=True)
class AuditEntry(View):
    id: str
    time: float
    actor: str | None
    address: str | None
    #: ``push``, ``delete``, ``login``, ``login.failed``, ``project.*``, ``member.*``,
    #: ``user.*``.
    action: str
    #: What it touched: ``repo:tag``, ``repo@digest``, a project or user name.
    target: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UsageReport(View):
    """Storage usage as of ``measured_at`` (None: never measured)."""

    measured_at: float | None
    bytes: int | None
    stored_bytes: int | None
    unreferenced_bytes: int | None
    repositories: list[dict[str, Any]]
    projects: list[dict[str, Any]]
