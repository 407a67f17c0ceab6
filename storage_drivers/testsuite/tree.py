"""Driver suite: listing, walking, moving and deleting trees, for every driver."""

from __future__ import annotations

import pytest

from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound
from storage_drivers.testsuite.data import walk_infos, walk_paths

TREE = {
    "/b/z": b"z",
    "/b/a/2": b"22",
    "/b/a/1": b"1",
    "/b/a-/x": b"x",
    "/a": b"top",
    "/b/a/sub/deep/f": b"deep",
    "/c/d": b"dd",
    "/B": b"upper",
}


async def make_tree(driver: StorageDriver) -> None:
    for path, data in TREE.items():
        await driver.put_content(path, data)


class TreeTests:
    """Listing, walking, moving and deleting trees."""

    async def test_fresh_driver_is_empty(self, driver: StorageDriver) -> None:
        assert await driver.list("/") == []
        assert await walk_paths(driver, "/") == []

    async def test_list_root_and_dirs(self, driver: StorageDriver) -> None:
        await make_tree(driver)
        assert await driver.list("/") == ["/B", "/a", "/b", "/c"]
        assert await driver.list("/b") == ["/b/a", "/b/a-", "/b/z"]
        assert await driver.list("/b/a") == ["/b/a/1", "/b/a/2", "/b/a/sub"]
        assert await driver.list("/b/a/sub/deep") == ["/b/a/sub/deep/f"]

    async def test_list_missing_or_file_is_path_not_found(self, driver: StorageDriver) -> None:
        await make_tree(driver)
        for path in ["/missing", "/b/missing", "/a", "/b/z"]:
            with pytest.raises(PathNotFound):
                await driver.list(path)

    async def test_walk_is_depth_first_lexical_with_dirs(self, driver: StorageDriver) -> None:
        await make_tree(driver)
        assert await walk_paths(driver, "/") == [
            "/B",
            "/a",
            "/b",
            "/b/a",
            "/b/a/1",
            "/b/a/2",
            "/b/a/sub",
            "/b/a/sub/deep",
            "/b/a/sub/deep/f",
            "/b/a-",
            "/b/a-/x",
            "/b/z",
            "/c",
            "/c/d",
        ]
        assert await walk_paths(driver, "/b/a") == [
            "/b/a/1",
            "/b/a/2",
            "/b/a/sub",
            "/b/a/sub/deep",
            "/b/a/sub/deep/f",
        ]

    async def test_walk_infos(self, driver: StorageDriver) -> None:
        await make_tree(driver)
        infos = {i.path: i for i in await walk_infos(driver, "/b")}
        assert infos["/b/a"].is_dir and not infos["/b/a/2"].is_dir
        assert infos["/b/a/2"].size == 2
        assert infos["/b/a/sub/deep/f"].size == 4

    async def test_walk_missing_is_path_not_found(self, driver: StorageDriver) -> None:
        await make_tree(driver)
        with pytest.raises(PathNotFound):
            await walk_paths(driver, "/missing")

    async def test_walk_files_is_walk_without_directories(self, driver: StorageDriver) -> None:
        await make_tree(driver)
        for top in ["/", "/b", "/b/a", "/c/d"]:
            files = [i for i in await walk_infos(driver, top) if not i.is_dir]
            found = [info async for info in driver.walk_files(top)]
            assert [(i.path, i.size, i.is_dir) for i in found] == [
                (i.path, i.size, False) for i in files
            ]
        with pytest.raises(PathNotFound):
            [info async for info in driver.walk_files("/missing")]

    async def test_find_files_is_walk_files_by_name_and_depth(self, driver: StorageDriver) -> None:
        store = {
            "/s/sha256/aa/aa11/data": b"1",
            "/s/sha256/aa/aa22/other": b"22",  # a directory without the file
            "/s/sha256/bb/bb33/data": b"333",
            "/s/sha256/bb/bb33/extra": b"4444",
            "/s/sha256/data": b"55555",  # the name at another depth
            "/s/sha256/cc/cc44/data/x": b"6",  # a directory of that name
            "/s/sha256/dd": b"7",  # a file where a directory is expected
        }
        for path, content in store.items():
            await driver.put_content(path, content)
        found = [(i.path, i.size) async for i in driver.find_files("/s", "data", 3)]
        assert found == [("/s/sha256/aa/aa11/data", 1), ("/s/sha256/bb/bb33/data", 3)]
        skipped = [i.path async for i in driver.find_files("/s", "data", 3, {"aa11"}.__contains__)]
        assert skipped == ["/s/sha256/bb/bb33/data"]  # skip is asked the directory's name
        for top, name, depth in [("/s", "data", 1), ("/s/sha256", "data", 0), ("/", "x", 5)]:
            prefix = "" if top == "/" else top
            expected = [
                (i.path, i.size)
                async for i in driver.walk_files(top)
                if i.path[len(prefix) + 1 :].count("/") == depth and i.path.endswith("/" + name)
            ]
            assert [(i.path, i.size) async for i in driver.find_files(top, name, depth)] == (
                expected
            )
            assert expected
        assert [i async for i in driver.find_files("/s", "data", 9)] == []
        for depth in (0, 3):
            with pytest.raises(PathNotFound):
                [info async for info in driver.find_files("/missing", "data", depth)]

    async def test_move_to_new_path_creates_parents(self, driver: StorageDriver) -> None:
        await driver.put_content("/src/f", b"content")
        await driver.move("/src/f", "/x/y/z/g")
        assert await driver.get_content("/x/y/z/g") == b"content"
        with pytest.raises(PathNotFound):
            await driver.stat("/src/f")

    async def test_move_replaces_existing_file(self, driver: StorageDriver) -> None:
        await driver.put_content("/src", b"new")
        await driver.put_content("/dst", b"old and longer")
        await driver.move("/src", "/dst")
        assert await driver.get_content("/dst") == b"new"
        with pytest.raises(PathNotFound):
            await driver.get_content("/src")

    async def test_move_missing_is_path_not_found(self, driver: StorageDriver) -> None:
        await driver.put_content("/dst", b"kept")
        with pytest.raises(PathNotFound):
            await driver.move("/missing", "/dst")
        with pytest.raises(PathNotFound):
            await driver.move("/missing/below", "/elsewhere")
        assert await driver.get_content("/dst") == b"kept"

    async def test_move_onto_itself_keeps_the_file(self, driver: StorageDriver) -> None:
        await driver.put_content("/same", b"data")
        await driver.move("/same", "/same")
        assert await driver.get_content("/same") == b"data"

    async def test_stat_file_is_files_only(self, driver: StorageDriver) -> None:
        await make_tree(driver)
        for path, data in TREE.items():
            info = await driver.stat_file(path)
            assert (info.size, info.is_dir) == (len(data), False), path
        for path in ["/b", "/b/a", "/b/a/sub", "/nothing", "/b/a/3", "/b/a-/x/y"]:
            with pytest.raises(PathNotFound):
                await driver.stat_file(path)

    async def test_delete_file(self, driver: StorageDriver) -> None:
        await make_tree(driver)
        await driver.delete("/b/z")
        with pytest.raises(PathNotFound):
            await driver.stat("/b/z")
        assert await driver.list("/b") == ["/b/a", "/b/a-"]

    async def test_delete_is_recursive(self, driver: StorageDriver) -> None:
        await make_tree(driver)
        await driver.delete("/b")
        for path in ["/b", "/b/a", "/b/a/1", "/b/a/sub/deep/f"]:
            with pytest.raises(PathNotFound):
                await driver.stat(path)
        assert await driver.list("/") == ["/B", "/a", "/c"]
        assert await walk_paths(driver, "/") == ["/B", "/a", "/c", "/c/d"]

    async def test_delete_does_not_touch_prefix_siblings(self, driver: StorageDriver) -> None:
        await make_tree(driver)
        await driver.delete("/b/a")
        assert await driver.get_content("/b/a-/x") == b"x"
        assert await driver.list("/b") == ["/b/a-", "/b/z"]

    async def test_delete_many_says_what_was_there(self, driver: StorageDriver) -> None:
        await make_tree(driver)
        found = await driver.delete_many(["/b/a", "/missing", "/b/z", "/b/a"])
        assert list(found) == [True, False, True, False]
        assert await driver.list("/b") == ["/b/a-"]
        assert await walk_paths(driver, "/b") == ["/b/a-", "/b/a-/x"]

    async def test_delete_many_siblings_in_one_batch(self, driver: StorageDriver) -> None:
        """Many children of one directory (a blob store prefix), as a collection deletes."""
        for name in ["d1/data", "d2/data", "d3/x/y", "d4", "d5-/data", "keep/data"]:
            await driver.put_content(f"/g/{name}", name.encode())
        doomed = ["/g/d1", "/g/d2", "/g/d3", "/g/d4", "/g/d5", "/g/missing", "/g/d1"]
        found = await driver.delete_many(doomed)
        assert list(found) == [True, True, True, True, False, False, False]
        assert await driver.list("/g") == ["/g/d5-", "/g/keep"]
        assert await walk_paths(driver, "/g/d5-") == ["/g/d5-/data"]
        assert list(await driver.delete_many(["/g/d5-", "/g/keep", "/g/x", "/g/y"])) == [
            True,
            True,
            False,
            False,
        ]
        assert [info async for info in driver.walk_files("/")] == []

    async def test_delete_missing_is_path_not_found(self, driver: StorageDriver) -> None:
        await make_tree(driver)
        for path in ["/missing", "/b/missing", "/a/below"]:
            with pytest.raises(PathNotFound):
                await driver.delete(path)
        await driver.delete("/a")
        with pytest.raises(PathNotFound):
            await driver.delete("/a")

    async def test_nested_names_with_dots(self, driver: StorageDriver) -> None:
        await driver.put_content("/v2/repo.name/_layers/sha256/ab/link", b"sha256:ab")
        await driver.put_content("/v2/repo.name/.hidden", b"h")
        assert await driver.list("/v2/repo.name") == [
            "/v2/repo.name/.hidden",
            "/v2/repo.name/_layers",
        ]
        assert await driver.get_content("/v2/repo.name/_layers/sha256/ab/link") == b"sha256:ab"
