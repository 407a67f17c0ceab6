"""One step of an upload session, run in its own process over a shared filesystem root.

``python -m tests.storage.upload_worker ROOT REPO ACTION ...`` where ACTION is

* ``start SIZE SEED``: create a session and append ``part(SIZE, SEED)``; prints
  ``session <id> <size>``;
* ``finish ID OFFSET SIZE SEED DIGEST``: resume the session, append ``part(SIZE, SEED)``
  at ``OFFSET`` and commit it as ``DIGEST``; prints ``committed <digest> <size>`` or
  ``error <OCI code>`` when the registry refuses.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import AsyncIterator

from pyregistry.storage import Digest, Registry, RegistryError
from storage_drivers import create_driver

CHUNK = 100_000


def part(size: int, seed: int) -> bytes:
    """The bytes a worker sends: the parent regenerates them to check the result."""
    return random.Random(seed).randbytes(size)


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(data), CHUNK):
        yield data[i : i + CHUNK]


async def start(registry: Registry, repository: str, size: int, seed: int) -> str:
    session = await registry.repository(repository).uploads.create()
    written = await session.append(chunks(part(size, seed)))
    return f"session {session.id} {written}"


async def finish(registry: Registry, repository: str, args: list[str]) -> str:
    upload_id, offset, size, seed, digest = args
    session = await registry.repository(repository).uploads.resume(upload_id)
    data = part(int(size), int(seed))
    descriptor = await session.commit(Digest.parse(digest), chunks(data), int(offset))
    return f"committed {descriptor.digest} {descriptor.size}"


async def main(argv: list[str]) -> None:
    root, repository, action, *args = argv
    registry = Registry(create_driver("filesystem", {"rootdirectory": root}))
    try:
        if action == "start":
            line = await start(registry, repository, int(args[0]), int(args[1]))
        elif action == "finish":
            line = await finish(registry, repository, args)
        else:
            raise SystemExit(f"unknown action {action}")
    except RegistryError as exc:
        line = f"error {exc.code}"
    finally:
        await registry.close()
    print(line, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
