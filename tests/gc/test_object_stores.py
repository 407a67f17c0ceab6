"""The command on S3 (SeaweedFS) and Swift: the same root collects to the same files as on
the in-memory driver, through the config's ``storage`` section as an operator runs it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from pyregistry.gc import CollectOptions, collect
from pyregistry.storage import Registry
from storage_drivers import StorageDriver, create_driver
from storage_drivers.inmemory import InMemoryDriver
from tests.gc.conftest import snapshot
from tests.gc.scenario import build_scenario
from tests.support import swift as swift_support
from tests.support.registry_process import REPO_ROOT
from tests.support.s3 import S3Server
from tests.support.swift import SwiftServer


async def _expected(delete_untagged: bool) -> dict[str, bytes]:
    driver = InMemoryDriver()
    await build_scenario(Registry(driver))
    report = await collect(driver, CollectOptions(delete_untagged=delete_untagged))
    assert report.ok
    return await snapshot(driver)


async def _gc(tmp_path: Path, storage: dict[str, Any], *flags: str) -> str:
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump({"version": "0.1", "storage": storage}))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "pyregistry", "garbage-collect", str(config), *flags),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    out, err = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode == 0, (out + err).decode()
    return out.decode()


async def _check(tmp_path: Path, name: str, params: dict[str, Any], untagged: bool) -> None:
    driver: StorageDriver = create_driver(name, params)
    try:
        await build_scenario(Registry(driver))
        before = await snapshot(driver)
        await _gc(tmp_path, {name: params}, "--dry-run", "--delete-untagged=" + str(untagged))
        assert await snapshot(driver) == before
        out = await _gc(tmp_path, {name: params}, *(["-m"] if untagged else []))
        assert "0 errors" in out
        assert await snapshot(driver) == await _expected(untagged)
    finally:
        await driver.close()


@pytest.mark.slow
@pytest.mark.parametrize("untagged", [False, True], ids=["default", "delete-untagged"])
async def test_s3(tmp_path: Path, seaweedfs_server: S3Server, untagged: bool) -> None:
    params = seaweedfs_server.driver_parameters(f"/gc-{uuid.uuid4().hex[:12]}")
    await _check(tmp_path, "s3", params, untagged)


@pytest.mark.slow
async def test_swift(tmp_path: Path, swift_server: SwiftServer) -> None:
    params = swift_support.driver_parameters(swift_server)
    await _check(tmp_path, "swift", params, True)
