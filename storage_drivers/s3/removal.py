"""Deleting a path on S3: its keys, its uncommitted writers' state objects, and the
folder markers its removal leaves empty (see ``S3Backend.folder_markers``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from storage_drivers.errors import PathNotFound, StorageDriverError
from storage_drivers.object_walk import valid_relative
from storage_drivers.s3.upload_state import abort_quietly, read_state

if TYPE_CHECKING:
    from storage_drivers.s3.driver import S3Driver


async def remove_tree(
    driver: S3Driver,
    path: str,
    *,
    writers: bool = True,
    also: Sequence[str] = (),
) -> None:
    """Delete the file or tree at ``path``, uncommitted writers below it included.

    One flat listing of the key as a prefix finds the file and everything below it
    (keys of siblings that merely start with the same name are skipped), one more
    finds the state objects of uncommitted writers (skipped with ``writers=False``, by
    a caller that knows there are none); folder markers go only for the folders left
    empty. The keys ``also`` go in the same requests (deleted even when ``path`` is not
    there).
    """
    key = driver._backend.key(path)
    prefix = key + "/"
    batch: list[str] = []
    found = False
    folders: set[str] = set()
    async for name, _size, _time in driver._keys(path, key):
        if name != key and not name.startswith(prefix):
            continue  # a sibling such as <key>-other
        found = True
        batch.append(name)
        relative = name[len(prefix) :].split("/") if name != key else []
        folders.update(prefix + "/".join(relative[:i]) + "/" for i in range(1, len(relative)))
        if len(batch) >= driver._delete_max:
            await delete_keys(driver, path, batch)
            batch = []
    for state_path in await pending_writers(driver, path) if writers else []:
        found = True
        await discard_writer(driver, state_path)
        batch.append(driver._backend.tail_key(state_path))
    if not found:
        if also:
            await delete_keys(driver, path, [*batch, *also])
        raise PathNotFound(path, driver=driver.name)
    # Emptied folders, deepest first, then the path's own; then the ancestors it
    # may have left empty.
    batch += sorted(folders, key=lambda f: (-f.count("/"), f))
    batch.append(prefix)
    batch += also
    await delete_keys(driver, path, batch)
    await prune(driver, path, parent_of(path))


async def prune(driver: S3Driver, path: str, directory: str) -> None:
    """Remove the folder marker of ``directory`` and of its ancestors while they
    hold nothing any more (see ``S3Backend.folder_markers``): one listing per level,
    and only the markers of folders found empty are deleted. Nothing on a server where
    folders are only key prefixes (see ``folders.py``)."""
    if directory == "/" or not await driver.emptied_folders.linger():
        return
    while directory != "/":
        prefix = driver._backend.prefix(directory)
        page = await driver._backend.call("list_objects_v2", path, Prefix=prefix, MaxKeys=2)
        keys = [obj["Key"] for obj in page.get("Contents", [])]
        if any(key != prefix for key in keys) or page.get("CommonPrefixes"):
            return
        await delete_keys(driver, path, [prefix])
        directory = parent_of(directory)


async def pending_writers(driver: S3Driver, path: str) -> list[str]:
    """Driver paths of the uncommitted writers at or below ``path``."""
    own = driver._backend.tail_key(path)
    below = driver._backend.tail_prefix(path)
    found = []
    async for name, _size, _time in driver._keys(path, own):
        owner = driver._backend.tail_owner(name)
        if (name == own or name.startswith(below)) and owner and valid_relative(owner[1:]):
            found.append(owner)
    return found


async def discard_writer(driver: S3Driver, path: str) -> None:
    """Abort the multipart upload an uncommitted writer's state object names."""
    state = await read_state(driver._backend, path)
    if state is not None and state[0] is not None:
        await abort_quietly(driver._backend, path, driver._backend.key(path), state[0])


async def delete_keys(driver: S3Driver, path: str, keys: list[str]) -> None:
    """DeleteObjects in order, at most 1000 keys per request; fails on any error."""
    step = driver._delete_max
    for start in range(0, len(keys), step):
        objects = [{"Key": k} for k in keys[start : start + step]]
        response = await driver._backend.call(
            "delete_objects", path, Delete={"Objects": objects, "Quiet": True}
        )
        errors = [e for e in response.get("Errors", []) if not str(e.get("Key", "")).endswith("/")]
        if errors:
            detail = ", ".join(f"{e.get('Key')}: {e.get('Code')}" for e in errors[:5])
            raise StorageDriverError(
                f"s3 could not delete {len(errors)} objects ({detail})",
                driver=driver.name,
                path=path,
            )


def parent_of(path: str) -> str:
    """The driver path of the directory holding ``path`` (``/`` at the top)."""
    return path.rsplit("/", 1)[0] or "/"
