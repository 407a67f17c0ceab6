"""A separate process using the filesystem driver, for the crash and cross-process tests.

Run as ``python -m tests.storage_drivers.fs_worker ROOT ACTION PATH [ARGS]``; it prints
``ready`` once it has done enough for the parent to act (kill it, or check its work).
"""

from __future__ import annotations

import asyncio
import sys

from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.testsuite.data import ChunkStream

STREAM = ChunkStream(chunk_size=(1 << 20) + 13, count=4096)


def say(line: str) -> None:
    print(line, flush=True)


async def write_forever(d: FilesystemDriver, path: str) -> None:
    """Stream data into an uncommitted writer until killed."""
    w = await d.writer(path)
    for k, chunk in enumerate(STREAM.chunks()):
        await w.write(chunk)
        if k == 3:
            say("ready")
        if k >= 3:
            await asyncio.sleep(0.005)  # keep going, but slowly: the parent kills us
    say("finished without being killed")


async def put_forever(d: FilesystemDriver, path: str) -> None:
    """Replace the content of ``path`` with whole versions over and over until killed."""
    versions = [bytes([65 + i]) * ((1 << 20) * (i + 1) + i) for i in range(3)]
    k = 0
    while True:
        await d.put_content(path, versions[k % 3])
        if k == 2:
            say("ready")
        k += 1


async def resume(d: FilesystemDriver, path: str, expect: int, chunks: int, finish: str) -> None:
    """Continue an upload another process started; ``finish`` is close or commit."""
    w = await d.writer(path, append=True)
    if w.size != expect:
        say(f"size {w.size} != {expect}")
        return
    first = expect // STREAM.chunk_size
    for k in range(first, first + chunks):
        await w.write(STREAM.chunk(k))
    await (w.commit() if finish == "commit" else w.close())
    say(f"ready {w.size}")


async def main(argv: list[str]) -> None:
    root, action, path, *rest = argv
    d = FilesystemDriver(rootdirectory=root)
    if action == "write-forever":
        await write_forever(d, path)
    elif action == "put-forever":
        await put_forever(d, path)
    elif action == "resume":
        await resume(d, path, int(rest[0]), int(rest[1]), rest[2])
    else:
        say(f"unknown action {action}")
    await d.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
