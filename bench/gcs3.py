"""The S3 row of ``python -m bench.gc``: load the root into the S3 test server, collect.

Uploading the root file by file through the driver (32 at a time, both copies one after
the other) took about 25 minutes for the full size. The root is built on local disk as
for the filesystem row, then loaded by :func:`load_tree`: one PutObject per file and
copy, many threads side by side on one boto3 client (its connection pool sized to
match), both copies in the same pass. Collection then runs on the two copies exactly as
on the filesystem: pyregistry on one, distribution's ``registry garbage-collect`` on
the other, and what each left behind is compared from a listing.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.gcstore import content_files
from bench.s3server import S3Endpoint, run_s3, s3_client, unique_root
from bench.servers import distribution_version
from storage_drivers.base import StorageDriver
from storage_drivers.s3 import S3Driver

if TYPE_CHECKING:
    from bench.gc import Collectors, Row

#: PutObject requests in flight while loading the root.
LOAD_THREADS = 64


def load_tree(
    source: Path, endpoint: S3Endpoint, roots: list[str], threads: int = LOAD_THREADS
) -> int:
    """Every file of the filesystem root ``source`` under each of ``roots`` (driver
    ``rootdirectory`` values) in the bucket; the number of objects written."""
    client = s3_client(endpoint.endpoint, connections=threads, attempts=5)
    files = [Path(d, name) for d, _, names in os.walk(source) for name in names]
    prefixes = [root.strip("/") for root in roots]

    def put(path: Path) -> None:
        body = path.read_bytes()
        relative = path.relative_to(source).as_posix()
        for prefix in prefixes:
            client.put_object(Bucket=endpoint.bucket, Key=f"{prefix}/{relative}", Body=body)

    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(put, files):
            pass
    return len(files) * len(prefixes)


async def _listing(driver: StorageDriver) -> set[str]:
    return {info.path async for info in driver.walk_files("/docker")}


def _params(endpoint: S3Endpoint, root: str) -> dict[str, Any]:
    params: dict[str, Any] = endpoint.pyregistry_storage(root)["s3"]
    return params


def run_s3_target(
    work: Path, source: Path, binary: str, flags: list[str], impl: str, collectors: Collectors
) -> Row:
    from bench.gc import Row

    with run_s3(impl) as endpoint:
        roots = [unique_root("gc-pyregistry"), unique_root("gc-distribution")]
        started = time.perf_counter()
        count = load_tree(source, endpoint, roots)
        took = time.perf_counter() - started
        print(f"s3: {count} objects (two copies) loaded in {took:.0f}s", file=sys.stderr)
        theirs_storage = endpoint.distribution_storage(roots[1], distribution_version(binary))
        ours, theirs = collectors(
            work, binary, endpoint.pyregistry_storage(roots[0]), theirs_storage, flags
        )
        left = []
        for root in roots:
            driver = S3Driver.from_parameters(_params(endpoint, root))
            left.append(asyncio.run(_listing(driver)))
            asyncio.run(driver.close())
    same = content_files(left[0]) == content_files(left[1])
    return Row("s3", ours, theirs, same, len(left[0]))
