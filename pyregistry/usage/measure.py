"""What each repository and project occupies, with shared blobs counted once per total.

A repository's size is the sum of the blobs it links: its layer links (configs and
layers) and its manifest revisions (manifests are blobs too), each digest once. A
*project* is a repository name's first path component (``library`` for
``library/nginx``; a name without ``/`` is its own project). A blob linked by several
repositories of one project counts once in the project's ``bytes`` and once per
repository in its ``linked_bytes``; the registry's totals are figured the same way, so
both the space the store really holds and what each part would hold alone are shown.

Sizes come from one listing of the blob store (``data`` files), never a stat per blob.
State is a set of digests per project, proportional to the number of digests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pyregistry.storage import enumerate as stored
from pyregistry.storage.digest import Digest
from storage_drivers.base import StorageDriver


def project_of(repository: str) -> str:
    return repository.split("/", 1)[0]


@dataclass(frozen=True)
class RepositoryUsage:
    name: str
    bytes: int
    blobs: int


@dataclass(frozen=True)
class ProjectUsage:
    name: str
    #: Each digest once, however many of the project's repositories link it.
    bytes: int
    #: The sum of the project's repository sizes (shared blobs counted per repository).
    linked_bytes: int
    repositories: int


@dataclass
class Usage:
    repositories: list[RepositoryUsage] = field(default_factory=list)
    projects: list[ProjectUsage] = field(default_factory=list)
    #: Each referenced digest once over the whole registry.
    bytes: int = 0
    #: The sum of every repository's size.
    linked_bytes: int = 0
    #: Every blob in the store, linked or not (what garbage collection may shrink).
    stored_bytes: int = 0
    #: Blobs a repository links whose data is missing from the store.
    missing_blobs: int = 0
    measured_at: float = field(default_factory=time.time)

    @property
    def unreferenced_bytes(self) -> int:
        return max(self.stored_bytes - self.bytes, 0)

    def as_dict(self) -> dict[str, object]:
        return {
            "repositories": [vars(r) for r in self.repositories],
            "projects": [vars(p) for p in self.projects],
            "bytes": self.bytes,
            "linked_bytes": self.linked_bytes,
            "stored_bytes": self.stored_bytes,
            "unreferenced_bytes": self.unreferenced_bytes,
            "missing_blobs": self.missing_blobs,
            "measured_at": self.measured_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        """The inverse of :meth:`as_dict` (a snapshot another process wrote)."""
        return cls(
            repositories=[RepositoryUsage(**r) for r in data.get("repositories", [])],
            projects=[ProjectUsage(**p) for p in data.get("projects", [])],
            bytes=int(data.get("bytes", 0)),
            linked_bytes=int(data.get("linked_bytes", 0)),
            stored_bytes=int(data.get("stored_bytes", 0)),
            missing_blobs=int(data.get("missing_blobs", 0)),
            measured_at=float(data.get("measured_at", 0.0)),
        )


async def _linked(driver: StorageDriver, repository: str) -> set[Digest]:
    digests = {link.digest async for link in stored.layer_links(driver, repository)}
    async for revision in stored.manifest_revisions(driver, repository, read_targets=False):
        digests.add(revision.digest)
    return digests


async def measure(driver: StorageDriver) -> Usage:
    """Walk ``driver`` once and figure every size."""
    usage = Usage()
    sizes: dict[Digest, int] = {}
    async for blob in stored.blobs(driver):
        sizes[blob.digest] = blob.size
        usage.stored_bytes += blob.size
    projects: dict[str, tuple[set[Digest], list[int]]] = {}
    referenced: set[Digest] = set()
    async for repository in stored.repositories(driver):
        digests = await _linked(driver, repository)
        size = sum(sizes.get(d, 0) for d in digests)
        usage.missing_blobs += sum(1 for d in digests if d not in sizes)
        usage.repositories.append(RepositoryUsage(repository, size, len(digests)))
        usage.linked_bytes += size
        project, counts = projects.setdefault(project_of(repository), (set(), [0, 0]))
        project.update(digests)
        counts[0] += size
        counts[1] += 1
        referenced.update(digests)
    for name, (digests, (linked, count)) in sorted(projects.items()):
        unique = sum(sizes.get(d, 0) for d in digests)
        usage.projects.append(ProjectUsage(name, unique, linked, count))
    usage.bytes = sum(sizes.get(d, 0) for d in referenced)
    return usage
