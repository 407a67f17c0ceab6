"""Mark: which manifests stay, and every digest they keep alive.

Per repository, the roots are every manifest revision (distribution's default) or, with
``delete_untagged``, only the manifests a tag points at now. From the roots, marking
follows index children that are revisions of the same repository (recursively) and
referrers: manifests whose ``subject`` is a kept manifest. Every kept manifest marks its
own digest, its config and layers and its index children's digests; the marked set is
global, so a blob stays while any repository's kept manifest names it.

Marking reads every revision before anything is swept, and stops on the first one it
cannot read or parse (:class:`ManifestUnreadable`): nothing is ever deleted because the
manifest that might keep it was unreadable. A revision whose manifest data is missing is
skipped with a warning and left in place, as distribution leaves it; a revision link gone
between listing and reading was deleted meanwhile and names nothing any more.

These functions take a driver, not a registry: the offline command and a later online
collector (which adds a grace period at sweep time) share them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pyregistry.gc.progress import Progress
from pyregistry.gc.references import ManifestReferences, ManifestUnreadable, parse_references
from pyregistry.gc.report import Report
from pyregistry.storage import enumerate as stored
from pyregistry.storage.digest import Digest
from pyregistry.storage.enumerate import READ_BATCH
from pyregistry.storage.removal import read_manifests
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound


@dataclass(frozen=True, slots=True)
class ManifestRemoval:
    """An unmarked manifest revision: where it is and what else names it."""

    repository: str
    digest: Digest
    #: Tags whose history (``index/``) names it; none of them points at it now.
    tags: tuple[str, ...] = ()
    #: Its ``subject``, whose referrers index lists it.
    subject: Digest | None = None


@dataclass
class MarkResult:
    """The marked digests (global), and the manifests to sweep per repository."""

    marked: set[Digest] = field(default_factory=set)
    removals: list[ManifestRemoval] = field(default_factory=list)
    repositories: list[str] = field(default_factory=list)
    manifests_kept: int = 0


async def _exists(driver: StorageDriver, path: str) -> bool:
    try:
        await driver.stat(path)
    except PathNotFound:
        return False
    return True


async def read_revisions(
    driver: StorageDriver, repository: str, report: Report
) -> dict[Digest, ManifestReferences]:
    """Every revision's references, its manifest read ``READ_BATCH`` at a time."""
    revisions: dict[Digest, ManifestReferences] = {}
    batch: list[Digest] = []

    async def read_batch() -> None:
        contents = await read_manifests(driver, batch)
        for digest, content in zip(batch, contents, strict=True):
            if content is None:
                report.warn(f"{repository}@{digest}: manifest data is missing; skipped")
                continue
            revisions[digest] = parse_references(repository, digest, content)
        batch.clear()

    async for entry in stored.manifest_revisions(driver, repository):
        if entry.target is None and not await _exists(driver, entry.path):
            continue  # deleted since it was listed (a DELETE while collecting online)
        if entry.target != entry.digest:
            raise ManifestUnreadable(
                repository, entry.digest, f"revision link {entry.path} does not name it"
            )
        batch.append(entry.digest)
        if len(batch) >= READ_BATCH:
            await read_batch()
    await read_batch()
    return revisions


def reachable(roots: Iterable[Digest], revisions: dict[Digest, ManifestReferences]) -> set[Digest]:
    """Roots, their index children (recursively) and referrers of anything kept."""
    referrers: dict[Digest, list[Digest]] = {}
    for digest, refs in revisions.items():
        if refs.subject is not None:
            referrers.setdefault(refs.subject, []).append(digest)
    kept: set[Digest] = set()
    pending = [digest for digest in roots if digest in revisions]
    while pending:
        digest = pending.pop()
        if digest in kept:
            continue
        kept.add(digest)
        pending.extend(c for c in revisions[digest].children if c in revisions)
        pending.extend(referrers.get(digest, ()))
    return kept


async def mark_repository(
    driver: StorageDriver,
    repository: str,
    marked: set[Digest],
    *,
    delete_untagged: bool,
    report: Report,
) -> tuple[int, list[ManifestRemoval]]:
    """Mark one repository into ``marked``; returns (manifests kept, removals)."""
    revisions = await read_revisions(driver, repository, report)
    if delete_untagged:
        roots = [t.target async for t in stored.tags(driver, repository) if t.target is not None]
        kept = reachable(roots, revisions)
    else:
        kept = set(revisions)
    for digest in kept:
        refs = revisions[digest]
        marked.add(digest)
        marked.update(refs.blobs)
        marked.update(refs.children)
    doomed = {digest for digest in revisions if digest not in kept}
    history: dict[Digest, list[str]] = {}
    if doomed:
        async for tag, digest in stored.tag_index_entries(driver, repository):
            if digest in doomed:
                history.setdefault(digest, []).append(tag)
    removals = [
        ManifestRemoval(repository, d, tuple(history.get(d, ())), revisions[d].subject)
        for d in sorted(doomed, key=str)
    ]
    return len(kept), removals


async def mark(
    driver: StorageDriver,
    *,
    delete_untagged: bool = False,
    report: Report | None = None,
    progress: Progress | None = None,
) -> MarkResult:
    """Mark every repository; raises :class:`ManifestUnreadable` on an unreadable one."""
    report = report if report is not None else Report()
    progress = progress if progress is not None else Progress(enabled=False)
    result = MarkResult()
    result.repositories = [name async for name in stored.repositories(driver)]
    progress.phase("mark", len(result.repositories))
    for repository in result.repositories:
        kept, removals = await mark_repository(
            driver, repository, result.marked, delete_untagged=delete_untagged, report=report
        )
        result.manifests_kept += kept
        result.removals.extend(removals)
        progress.advance()
    report.repositories = len(result.repositories)
    report.manifests_marked = result.manifests_kept
    report.blobs_marked = len(result.marked)
    return result
