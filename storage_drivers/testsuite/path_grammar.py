"""Driver suite: every method refuses bad paths with InvalidPath, for every driver."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from storage_drivers.base import StorageDriver
from storage_drivers.errors import InvalidPath
from storage_drivers.testsuite.data import (
    INVALID_PATHS,
    VALID_ODD_PATHS,
    leave_pending,
    read_all,
    walk_paths,
)

Call = Callable[[StorageDriver, str], Awaitable[object]]

CALLS: dict[str, Call] = {
    "get_content": lambda d, p: d.get_content(p),
    "put_content": lambda d, p: d.put_content(p, b"x"),
    "put_contents": lambda d, p: d.put_contents({p: b"x"}),
    "reader": lambda d, p: d.reader(p),
    "writer": lambda d, p: d.writer(p),
    "writer_append": lambda d, p: d.writer(p, append=True),
    "stat": lambda d, p: d.stat(p),
    "list": lambda d, p: d.list(p),
    "move_source": lambda d, p: d.move(p, "/ok"),
    "move_dest": lambda d, p: d.move("/ok", p),
    "delete": lambda d, p: d.delete(p),
    "walk": lambda d, p: walk_paths(d, p),
}


class PathGrammarTests:
    """Every method refuses paths outside the grammar with InvalidPath, before any I/O."""

    @pytest.mark.parametrize("method", sorted(CALLS))
    async def test_invalid_paths_are_refused(self, driver: StorageDriver, method: str) -> None:
        await driver.put_content("/ok", b"payload")
        for path in INVALID_PATHS:
            with pytest.raises(InvalidPath):
                await CALLS[method](driver, path)
        assert await driver.get_content("/ok") == b"payload"  # nothing was touched
        assert await driver.list("/") == ["/ok"]

    @pytest.mark.parametrize("method", sorted(set(CALLS) - {"list", "walk"}))
    async def test_root_is_only_for_list_and_walk(self, driver: StorageDriver, method: str) -> None:
        await driver.put_content("/ok", b"payload")
        with pytest.raises(InvalidPath):
            await CALLS[method](driver, "/")
        assert await driver.list("/") == ["/ok"]

    async def test_non_string_paths_are_refused(self, driver: StorageDriver) -> None:
        for bad in (None, b"/a", 1):
            with pytest.raises(InvalidPath):
                await driver.get_content(bad)  # type: ignore[arg-type]

    async def test_valid_unusual_names_are_accepted(self, driver: StorageDriver) -> None:
        for i, path in enumerate(VALID_ODD_PATHS):
            data = f"content {i}".encode()
            await driver.put_content(path, data)
            assert await driver.get_content(path) == data
            assert await read_all(driver, path) == data
            assert (await driver.stat(path)).size == len(data)
            await leave_pending(driver, f"/w{path}", data)
            w = await driver.writer(f"/w{path}", append=True)
            await w.commit()
            assert await driver.get_content(f"/w{path}") == data
        tops = sorted({"/" + p.split("/")[1] for p in VALID_ODD_PATHS})
        assert await driver.list("/w") == [f"/w{t}" for t in tops]
        tops = sorted([*tops, "/w"])
        assert await driver.list("/") == tops
        for path in VALID_ODD_PATHS:
            await driver.delete(path)
            await driver.move(f"/w{path}", f"/m{path}")
        assert await walk_paths(driver, "/m") == sorted(
            {f"/m{p}" for p in VALID_ODD_PATHS} | {"/m/_"}
        )
