"""``delete_many`` on S3: a listing per shared parent and DeleteObjects of 1000 keys.

``delete`` costs a listing of the path, one of the uncommitted writers' state objects, a
DeleteObjects and a listing per folder it may have emptied: four requests for a blob's
one object. A garbage collection deletes tens of thousands of directories that share few
parents (a repository's ``_layers/sha256``, a blob store's two-hex prefix), so a batch
lists each shared parent once (flat, 1000 keys a page), the writers' state objects below
their common ancestor once, and deletes every key of the batch in DeleteObjects requests
of up to 1000. A key already gone is not an error (S3 does not even report it). Any
other per-key error fails the call, naming the keys, once every other key was deleted:
the caller may retry path by path, where each failure is told apart.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from storage_drivers.errors import PathNotFound, StorageDriverError
from storage_drivers.object_walk import valid_relative
from storage_drivers.s3.removal import discard_writer, parent_of, pending_writers, prune

if TYPE_CHECKING:
    from storage_drivers.s3.driver import S3Driver

#: Paths sharing a parent from which listing the parent beats a listing per path.
GROUP_MIN = 2


def _common(directories: list[str]) -> str:
    """The deepest directory holding all of ``directories``."""
    common = os.path.commonpath(directories)
    return common if common.startswith("/") else "/"


async def delete_many(driver: S3Driver, paths: Sequence[str]) -> list[bool]:
    """:meth:`S3Driver.delete` for each path; per path whether it was there."""
    found = [False] * len(paths)
    groups: dict[str, dict[str, int]] = {}
    for index, path in enumerate(paths):
        groups.setdefault(parent_of(path), {}).setdefault(path, index)  # first one counts
    listed = {p: m for p, m in groups.items() if p != "/" and len(m) >= GROUP_MIN}
    for members in (m for p, m in groups.items() if p not in listed):
        for path, index in members.items():
            try:
                await driver.delete(path)
            except PathNotFound:
                continue
            found[index] = True
    if not listed:
        return found
    keys: list[str] = []
    emptied: list[str] = []
    for parent, members in listed.items():
        there, others = await _list_group(driver, parent, members, keys)
        for path in there:
            found[members[path]] = True
        if not others:
            emptied.append(parent)
    members = {path: index for group in listed.values() for path, index in group.items()}
    for path in await _discard_writers(driver, _common(list(listed)), members, keys):
        found[members[path]] = True
    keys += sorted({driver._backend.prefix(p) for p in members if found[members[p]]}, reverse=True)
    failed = await _delete_keys(driver, _common(list(listed)), list(dict.fromkeys(keys)))
    if failed:
        detail = ", ".join(failed[:5])
        raise StorageDriverError(
            f"s3 could not delete {len(failed)} objects ({detail})", driver=driver.name
        )
    for parent in emptied:
        await prune(driver, parent, parent)
    return found


async def _list_group(
    driver: S3Driver, parent: str, members: dict[str, int], keys: list[str]
) -> tuple[set[str], bool]:
    """Add the keys of ``members`` (children of ``parent``) to ``keys``, from one flat
    listing of ``parent``; (the members found, whether anything else is in ``parent``)."""
    backend = driver._backend
    prefix = backend.prefix(parent)
    there: set[str] = set()
    others = False
    async for key, _size, _time in driver._keys(parent, prefix):
        relative = key[len(prefix) :]
        name, _, below = relative.partition("/")
        path = backend.to_path(parent, name) if name else ""
        if path not in members:
            others = others or (bool(relative) and valid_relative(relative.rstrip("/")))
            continue
        there.add(path)
        keys.append(key)
        if below:  # the markers of the folders its removal empties, deepest first
            parts = below.split("/")[:-1]
            keys += [
                f"{prefix}{name}/" + "/".join(parts[:i]) + "/" for i in range(len(parts), 0, -1)
            ]
    return there, others


async def _discard_writers(
    driver: S3Driver, directory: str, members: dict[str, int], keys: list[str]
) -> set[str]:
    """Abort the uncommitted writers at or below ``members`` (one listing of the state
    objects below ``directory``); add their state objects to ``keys``; the members."""
    there: set[str] = set()
    for owner in await pending_writers(driver, directory):
        member = next((p for p in _ancestors(owner, directory) if p in members), None)
        if member is None:
            continue
        there.add(member)
        await discard_writer(driver, owner)
        keys.append(driver._backend.tail_key(owner))
    return there


def _ancestors(path: str, parent: str) -> list[str]:
    """``path`` and its ancestors strictly below ``parent``."""
    found = []
    while path != parent and path.startswith(parent if parent != "/" else ""):
        found.append(path)
        path = parent_of(path)
    return found


async def _delete_keys(driver: S3Driver, path: str, keys: list[str]) -> list[str]:
    """DeleteObjects, at most the driver's batch size a request; the keys that failed
    (``NoSuchKey`` and folder markers, which a server may refuse, do not count)."""
    failed: list[str] = []
    step = driver._delete_max
    for start in range(0, len(keys), step):
        objects = [{"Key": key} for key in keys[start : start + step]]
        response: dict[str, Any] = await driver._backend.call(
            "delete_objects", path, Delete={"Objects": objects, "Quiet": True}
        )
        for error in response.get("Errors", []):
            key = str(error.get("Key", ""))
            if error.get("Code") != "NoSuchKey" and not key.endswith("/"):
                failed.append(f"{key}: {error.get('Code')}")
    return failed
