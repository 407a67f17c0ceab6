"""Where the filesystem driver's blocking calls run: small reads on the event loop while
they are fast, everything else (and everything with ``inlinereads: false``) on its pool."""

from __future__ import annotations

import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage_drivers.errors import PathNotFound
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.filesystem.inline import INLINE_MAX_BYTES, InlineGate
from storage_drivers.testsuite.data import leave_pending, read_all, walk_paths

_AUDIT: dict[str, object] = {"root": None, "events": []}
_AUDITED = {"open", "os.rename", "os.remove", "os.scandir", "os.mkdir", "shutil.rmtree"}


def _audit(event: str, args: tuple[object, ...]) -> None:
    root = _AUDIT["root"]
    if root is None or event not in _AUDITED or not args:
        return
    target = args[0]
    if isinstance(target, str) and target.startswith(str(root)):
        events = _AUDIT["events"]
        assert isinstance(events, list)
        events.append((event, target.rsplit("/", 1)[-1], threading.get_ident()))


_hook_installed = False


def install_audit_hook() -> None:
    global _hook_installed
    if not _hook_installed:  # audit hooks cannot be removed: install once, switch by root
        sys.addaudithook(_audit)
        _hook_installed = True


async def _on_loop(fs: FilesystemDriver, calls: AsyncIterator[None]) -> list[tuple[str, str]]:
    """(event, file name) of the audited calls made on the event loop's thread."""
    install_audit_hook()
    events: list[tuple[str, str, int]] = []
    _AUDIT.update(root=fs.root_directory, events=events)
    try:
        async for _ in calls:
            pass
    finally:
        _AUDIT.update(root=None)
    assert events, "nothing was audited"
    loop_thread = threading.get_ident()
    return [(kind, name) for kind, name, ident in events if ident == loop_thread]


async def _everything(fs: FilesystemDriver) -> AsyncIterator[None]:
    await fs.put_content("/a/b", b"x" * 10)
    yield
    await fs.put_content("/a/big", b"z" * (INLINE_MAX_BYTES + 1))
    assert await fs.get_content("/a/b") == b"x" * 10
    assert await fs.get_content("/a/big") == b"z" * (INLINE_MAX_BYTES + 1)
    await read_all(fs, "/a/b")
    await leave_pending(fs, "/a/w", b"y" * 3_000_000)
    w = await fs.writer("/a/w", append=True)
    await w.commit()
    await fs.list("/a")
    await walk_paths(fs, "/")
    await fs.stat("/a/b")
    await fs.move("/a/b", "/c/d")
    await fs.put_content("/e/f", b"1")
    await fs.move("/c/d", "/e")
    await fs.delete("/a")
    yield


@pytest.fixture
async def pool_only(tmp_path: Path) -> AsyncIterator[FilesystemDriver]:
    """A driver configured with ``inlinereads: false``."""
    fs = FilesystemDriver.from_parameters(
        {"rootdirectory": str(tmp_path / "root"), "inlinereads": "false"}
    )
    yield fs
    await fs.close()


async def test_no_file_io_on_the_event_loop_without_inline_reads(
    pool_only: FilesystemDriver,
) -> None:
    assert await _on_loop(pool_only, _everything(pool_only)) == []


async def test_only_small_reads_run_on_the_event_loop(fs: FilesystemDriver) -> None:
    # The small file is read on the loop, whole and streamed; the big one is opened there
    # to learn its size and read on the pool; writes, listings, walks, moves and deletes
    # never touch the loop.
    on_loop = await _on_loop(fs, _everything(fs))
    assert on_loop == [("open", "b"), ("open", "big"), ("open", "b")]


async def _start_writer(fs: FilesystemDriver) -> AsyncIterator[None]:
    writer = await fs.start_writer("/up/s/data", {"/up/s/startedat": b"now"})
    yield
    await writer.write(b"data")
    await writer.commit()
    assert await fs.get_content("/up/s/data") == b"data"
    yield


async def test_an_upload_session_starts_on_the_event_loop(fs: FilesystemDriver) -> None:
    """Its directory, its marker (temp file renamed) and the empty sidecar; the data then
    goes to the pool as any write does (the read afterwards is a small read)."""
    on_loop = await _on_loop(fs, _start_writer(fs))
    kinds = [kind for kind, _ in on_loop]
    assert kinds.count("os.mkdir") >= 1 and kinds.count("os.rename") == 1
    renamed = next(name for kind, name in on_loop if kind == "os.rename")
    assert renamed.startswith(".startedat~tmp.")
    # The sidecar is created on the loop; the commit opens it again, on the pool.
    assert on_loop.count(("open", ".data~partial")) == 1


async def test_an_upload_session_starts_on_the_pool_without_inline_reads(
    pool_only: FilesystemDriver,
) -> None:
    assert await _on_loop(pool_only, _start_writer(pool_only)) == []


async def test_slow_inline_reads_send_small_reads_back_to_the_pool(
    fs: FilesystemDriver,
) -> None:
    await fs.put_content("/s/link", b"sha256:" + b"a" * 64)
    fs.inline.slow_seconds = -1.0  # every call counts as slow ...
    fs.inline.debt_limit_seconds = 0.0
    fs.inline.slow_share_limit = 0.0
    fs.inline.sleeps = iter(range(1_000_000)).__next__  # ... and as having blocked
    on_loop = await _on_loop(fs, _reads(fs, "/s/link", 3))
    assert on_loop == [("open", "link")]  # the first one; the others went to the pool
    assert not fs.inline.open()


async def _reads(fs: FilesystemDriver, path: str, count: int) -> AsyncIterator[None]:
    for _ in range(count):
        await fs.get_content(path)
        await fs.stat(path)
        yield


async def test_inline_reads_report_missing_paths_as_the_pool_does(
    fs: FilesystemDriver,
) -> None:
    await fs.put_content("/d/file", b"1")
    for path in ("/d/missing", "/d"):
        with pytest.raises(PathNotFound):
            await fs.get_content(path)
    with pytest.raises(PathNotFound):
        await fs.stat("/d/missing")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_gate_counts_only_slow_calls_that_blocked() -> None:
    clock, sleeps = FakeClock(), [0]
    gate = InlineGate(
        slow_seconds=0.002,
        debt_limit_seconds=0.010,
        backoff_seconds=5.0,
        slow_share_limit=0.0,
        clock=clock,
    )
    gate.sleeps = lambda: sleeps[0]

    def call(seconds: float, blocked: bool) -> None:
        mark = gate.start()
        clock.now += seconds
        sleeps[0] += 1 if blocked else 0
        gate.took(mark)

    call(0.5, blocked=False)  # preempted for half a second: not the filesystem's fault
    call(0.001, blocked=True)  # blocked, but fast
    assert gate.open()
    call(0.006, blocked=True)
    assert gate.open()  # one slow call is below the limit
    clock.now += 10.0  # the debt halves every second: long forgotten
    call(0.006, blocked=True)
    assert gate.open()
    call(0.006, blocked=True)
    assert not gate.open()  # two in a row pass it
    clock.now += 4.9
    assert not gate.open()
    clock.now += 0.2
    assert gate.open()  # after the back-off the loop tries again


def test_gate_ignores_a_few_slow_calls_among_fast_ones() -> None:
    # A busy process (the GIL held by the pool's threads) slows some calls; a slow
    # filesystem slows all of them.
    clock, sleeps = FakeClock(), [0]
    gate = InlineGate(clock=clock)
    gate.sleeps = lambda: sleeps[0]

    def call(seconds: float) -> None:
        mark = gate.start()
        clock.now += seconds
        sleeps[0] += 1
        gate.took(mark)

    for _ in range(50):
        for _ in range(3):
            call(0.0001)
        call(0.008)
    assert gate.open()
    for _ in range(20):
        call(0.008)
    assert not gate.open()


def test_gate_can_be_turned_off() -> None:
    assert not InlineGate(enabled=False).open()


@pytest.mark.parametrize("value", ["maybe", 3])
def test_bad_inlinereads(tmp_path: Path, value: object) -> None:
    with pytest.raises(ValueError, match="inlinereads"):
        FilesystemDriver.from_parameters({"rootdirectory": str(tmp_path), "inlinereads": value})


async def test_a_missing_folder_is_listed_without_the_pool(fs: FilesystemDriver) -> None:
    """The tags of a repository nobody pushed: a ``stat`` on the loop says PathNotFound;
    a folder that is there (or with ``inlinereads: false``) is listed on the pool."""
    await fs.put_content("/r/tags/v1", b"x")
    hops: list[str] = []
    run = fs._runner.run

    async def counted(fn: Any, *args: Any) -> Any:
        hops.append(fn.__name__)
        return await run(fn, *args)

    fs._runner.run = counted  # type: ignore[method-assign, assignment]
    for missing in ("/r/nothing", "/nothing/at/all", "/r/tags/v1/below-a-file"):
        with pytest.raises(PathNotFound):
            await fs.list(missing)
    with pytest.raises(PathNotFound):
        await fs.list("/r/tags/v1")  # a file, not a folder
    assert hops == []
    assert await fs.list("/r/tags") == ["/r/tags/v1"]
    assert hops == ["list_dir"]
    fs.inline.enabled = False
    with pytest.raises(PathNotFound):
        await fs.list("/r/nothing")
    assert hops == ["list_dir", "list_dir"]
