"""The ``swift`` driver: OpenStack Swift over its REST API, with distribution's layout.

Options are distribution 2.8's (see :mod:`storage_drivers.swift.parameters`); the object
layout, shared with distribution, is described in :mod:`storage_drivers.swift.layout`.
Large content is written as segments and published as a Dynamic Large Object on
commit (:mod:`storage_drivers.swift.writer`), so there is no size limit. Swift's dlo
middleware throttles reads after ``rate_limit_after_segment`` segments (10 by default)
to one segment a second, as it does for distribution: large registries raise that
setting or ``chunksize``. Redirects are tempurl-middleware URLs, available when the
cluster offers tempurl (or ``tempurlmethods`` says so) and a key could be found or
set, as in distribution: without ``secretkey`` the container's (or account's) existing
key is used, or a random one is set.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from storage_drivers.base import FileInfo, FileWriter, StorageDriver
from storage_drivers.errors import InvalidOffset, PathNotFound, StorageDriverError
from storage_drivers.paths import check_path
from storage_drivers.swift.connection import DRIVER, SwiftConnection, swift_error
from storage_drivers.swift.layout import Layout, decode_state
from storage_drivers.swift.objects import (
    delete_manifest_or_object,
    delete_objects,
    delete_prefix,
    delete_segments,
    head_raw,
    mod_time,
    replace_cleanup,
)
from storage_drivers.swift.parameters import SwiftParameters, parse_parameters
from storage_drivers.swift.writer import open_writer

READ_CHUNK = 256 << 10
#: Parallel HEADs when a listing cannot tell a manifest from an empty object.
HEAD_CONCURRENCY = 16
BATCH = 1000


@dataclass(frozen=True, slots=True)
class _Entry:
    """A listing entry of one directory."""

    path: str
    is_dir: bool
    size: int = 0
    modified: str | None = None
    name: str = ""


_Entries = list[_Entry]
_Listing = list[dict[str, Any]]


class _ResponseChunks:
    """A streamed GET body; ``aclose`` releases the connection even if never iterated."""

    def __init__(self, response: httpx.Response | None, skip: int, limit: int | None) -> None:
        self._response = response
        self._skip = skip
        self._left = limit
        self._chunks: AsyncIterator[bytes] | None = None
        self._loop = asyncio.get_running_loop()

    def __del__(self) -> None:
        # dropped half-read (a client went away): hand the connection back to the pool,
        # or after a few dozen such readers every request would wait for a free one
        response = self._response
        if response is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(_close_later, self._loop, response)

    def __aiter__(self) -> _ResponseChunks:
        return self

    async def __anext__(self) -> bytes:
        while self._response is not None and self._left != 0:
            if self._chunks is None:
                self._chunks = self._response.aiter_bytes(READ_CHUNK)
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                break
            except httpx.HTTPError as exc:
                await self.aclose()
                raise StorageDriverError(f"swift: read failed: {exc!r}", driver=DRIVER) from exc
            if self._skip:
                cut = min(self._skip, len(chunk))
                chunk, self._skip = chunk[cut:], self._skip - cut
            if self._left is not None:
                chunk = chunk[: self._left]
                self._left -= len(chunk)
            if chunk:
                return chunk
        await self.aclose()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            await response.aclose()


def _close_later(loop: asyncio.AbstractEventLoop, response: httpx.Response) -> None:
    task = loop.create_task(response.aclose())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


_closing: set[asyncio.Task[None]] = set()


class SwiftDriver(StorageDriver):
    """Paths as objects in one Swift container (created on first use)."""

    name: ClassVar[str] = DRIVER

    def __init__(self, *, _list_limit: int = 10000, **parameters: Any) -> None:
        self.params: SwiftParameters = parse_parameters(parameters)
        self._conn = SwiftConnection(self.params, list_limit=_list_limit)
        self._layout = Layout(self.params.prefix, self.params.container)

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> SwiftDriver:
        parse_parameters(parameters)  # config keys only: no private test knobs
        return cls(**{str(k): v for k, v in parameters.items()})

    async def _ready(self, path: str, allow_root: bool = False) -> str:
        check_path(path, driver=DRIVER, allow_root=allow_root)
        await self._conn.ensure_ready()
        return self._layout.file(path)

    # ---------------------------------------------------------------- content
    async def get_content(self, path: str) -> bytes:
        name = await self._ready(path)
        response = await self._conn.request("GET", self._conn.object_path(name))
        if response.status_code == 404:
            raise PathNotFound(path, driver=DRIVER)
        if not response.is_success:
            raise swift_error(response, path)
        return response.content

    async def put_content(self, path: str, content: bytes) -> None:
        name = await self._ready(path)
        old = await head_raw(self._conn, name)
        headers = {
            "Content-Type": "application/octet-stream",
            "ETag": hashlib.md5(content, usedforsecurity=False).hexdigest(),
        }
        url = self._conn.object_path(name)
        response = await self._conn.request("PUT", url, content=bytes(content), headers=headers)
        if not response.is_success:
            raise swift_error(response, path)
        await replace_cleanup(self._conn, self._layout, old, None)

    async def reader(
        self, path: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        name = await self._ready(path)
        if offset < 0:
            raise InvalidOffset(path, offset, driver=DRIVER)
        if length is not None and length <= 0:
            if offset > (await self.stat(path)).size:
                raise InvalidOffset(path, offset, driver=DRIVER)
            return _ResponseChunks(None, 0, 0)
        headers = {}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            headers["Range"] = f"bytes={offset}-{end}"
        url = self._conn.object_path(name)
        response = await self._conn.request("GET", url, headers=headers, stream=True)
        if response.status_code == 200 or response.status_code == 206:
            skip = offset if response.status_code == 200 else 0
            return _ResponseChunks(response, skip, length)
        await response.aclose()
        if response.status_code == 404:
            raise PathNotFound(path, driver=DRIVER)
        if response.status_code == 416:
            size = (await self.stat(path)).size
            if offset == size:
                return _ResponseChunks(None, 0, 0)
            raise InvalidOffset(path, offset, driver=DRIVER)
        raise swift_error(response, path)

    async def writer(self, path: str, append: bool = False) -> FileWriter:
        await self._ready(path)
        return await open_writer(self._conn, self._layout, path, append)

    # ---------------------------------------------------------------- metadata
    async def stat(self, path: str) -> FileInfo:
        with suppress(PathNotFound):
            return await self.stat_file(path)
        listing = self._conn.listing(self._layout.children_prefix(path), limit=1)
        async with aclosing(listing) as entries:
            async for _ in entries:
                return FileInfo(path, 0, datetime.now(UTC), True)
        raise PathNotFound(path, driver=DRIVER)

    async def stat_file(self, path: str) -> FileInfo:
        """The object's HEAD alone (a missing one needs no listing for directories)."""
        name = await self._ready(path)
        response = await self._conn.request("HEAD", self._conn.object_path(name))
        if response.is_success:
            size = int(response.headers.get("Content-Length", 0))
            return FileInfo(path, size, mod_time(response.headers.get("Last-Modified")), False)
        if response.status_code != 404:
            raise swift_error(response, path)
        raise PathNotFound(path, driver=DRIVER)

    async def _children(self, path: str) -> _Entries:
        """The direct children of ``path``, sorted by driver path (files win over dirs)."""
        entries: dict[str, _Entry] = {}
        async for item in self._conn.listing(self._layout.children_prefix(path), "/"):
            subdir = "subdir" in item
            child = self._layout.path_of(item["subdir"] if subdir else item["name"])
            if child is None or (subdir and child in entries):
                continue
            if subdir:
                entries[child] = _Entry(child, True)
            else:
                size, modified = int(item.get("bytes", 0)), item.get("last_modified")
                entries[child] = _Entry(child, False, size, modified, item["name"])
        if not entries and path != "/":
            raise PathNotFound(path, driver=DRIVER)
        return [entries[p] for p in sorted(entries)]

    async def list(self, path: str) -> list[str]:
        await self._ready(path, allow_root=True)
        return [entry.path for entry in await self._children(path)]

    async def walk(self, path: str) -> AsyncIterator[FileInfo]:
        name = await self._ready(path, allow_root=True)
        if path != "/" and await head_raw(self._conn, name) is not None:
            return
        async for info in self._walk(path):
            yield info

    async def _walk(self, path: str) -> AsyncIterator[FileInfo]:
        children = await self._children(path)
        sizes = await self._real_sizes([c for c in children if not c.is_dir and c.size == 0])
        for child in children:
            if child.is_dir:
                yield FileInfo(child.path, 0, datetime.now(UTC), True)
                async for info in self._walk(child.path):
                    yield info
            else:
                size = sizes.get(child.path, child.size)
                yield FileInfo(child.path, size, mod_time(child.modified), False)

    async def _real_sizes(self, entries: _Entries) -> dict[str, int]:
        """Listings report 0 bytes for a DLO manifest: ask for the aggregate size."""
        limit = asyncio.Semaphore(HEAD_CONCURRENCY)

        async def size_of(entry: _Entry) -> tuple[str, int]:
            async with limit:
                response = await self._conn.request("HEAD", self._conn.object_path(entry.name))
            return entry.path, int(response.headers.get("Content-Length", 0) or 0)

        return dict(await asyncio.gather(*(size_of(e) for e in entries)))

    # ---------------------------------------------------------------- changes
    async def move(self, source: str, dest: str) -> None:
        src = await self._ready(source)
        dst = await self._ready(dest)
        conn = self._conn
        head = await head_raw(conn, src)
        if head is None:
            raise PathNotFound(source, driver=DRIVER)
        old = await head_raw(conn, dst) if dst != src else None
        if src == dst:
            return
        headers = {"Content-Type": "application/octet-stream"}
        params = None
        if head.manifest:
            # a DLO moves as a new manifest naming the same segments: no data is copied
            headers["X-Object-Manifest"] = head.manifest
        else:
            headers["X-Copy-From"] = conn.object_path(src)
            if head.slo:
                params = {"multipart-manifest": "get"}
        response = await conn.request(
            "PUT", conn.object_path(dst), params=params, headers=headers, content=b""
        )
        if not response.is_success:
            raise swift_error(response, dest if response.status_code != 404 else source)
        response = await conn.request("DELETE", conn.object_path(src))
        if not response.is_success and response.status_code != 404:
            raise swift_error(response, source)
        await replace_cleanup(conn, self._layout, old, head.manifest)

    async def delete(self, path: str) -> None:
        name = await self._ready(path)
        found = await delete_manifest_or_object(self._conn, self._layout, name)
        batch: _Listing = []
        async for entry in self._conn.listing(name + "/"):
            found = True
            batch.append(entry)
            if len(batch) >= BATCH:
                await self._delete_batch(batch)
                batch = []
        await self._delete_batch(batch)
        found = await self._delete_writers(path) or found
        if not found:
            raise PathNotFound(path, driver=DRIVER)

    async def _delete_batch(self, entries: _Listing) -> None:
        """Delete listed objects; zero-byte ones may be manifests whose segments go too."""
        limit = asyncio.Semaphore(HEAD_CONCURRENCY)

        async def probe(name: str) -> tuple[str, str | None, bool]:
            async with limit:
                head = await head_raw(self._conn, name)
            return name, head.manifest if head else None, bool(head and head.slo)

        probes = [e["name"] for e in entries if int(e.get("bytes", 0)) == 0]
        large = await asyncio.gather(*(probe(n) for n in probes))
        slos = {name for name, _, slo in large if slo}
        for name in slos:
            url = self._conn.object_path(name)
            response = await self._conn.request(
                "DELETE", url, params={"multipart-manifest": "delete"}
            )
            if not response.is_success and response.status_code != 404:
                raise swift_error(response, name)
        await delete_objects(self._conn, [e["name"] for e in entries if e["name"] not in slos])
        for _, manifest, _ in large:
            await delete_segments(self._conn, self._layout, manifest)

    async def _delete_writers(self, path: str) -> bool:
        """Discard uncommitted writers at or below ``path``; True if there were any."""
        state = self._layout.writer_state(path)
        names = [state]
        async for entry in self._conn.listing(state + "/"):
            names.append(entry["name"])
        found = False
        for name in names:
            response = await self._conn.request("GET", self._conn.object_path(name))
            if response.status_code == 404:
                continue
            if not response.is_success:
                raise swift_error(response, name)
            found = True
            segments = decode_state(response.content)
            await delete_objects(self._conn, [name])
            if segments and self._layout.owns(self.params.container, segments):
                await delete_prefix(self._conn, segments + "/")
        return found

    # ---------------------------------------------------------------- the rest
    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        name = await self._ready(path)
        method = "GET" if method.upper() == "HEAD" else method.upper()
        if not self._conn.secret_key or method not in self._conn.tempurl_methods:
            return None
        return await self._conn.temp_url(name, method)

    async def close(self) -> None:
        await self._conn.close()
