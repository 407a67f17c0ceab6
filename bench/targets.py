"""Targets by name: which server on which storage, started fresh for each run.

``fs`` and ``dist`` are pyregistry and distribution (3.1.1 when its binary is given, else
Debian's 2.8) on their own temporary filesystem roots; ``s3`` and ``dist-s3`` are the same
two on one local S3 server (one bucket, a fresh key prefix per run), with redirects off so
every byte goes through the registry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.s3server import S3Endpoint, run_s3, unique_root
from bench.servers import (
    BenchSetupError,
    RunningRegistry,
    distribution_binary,
    distribution_version,
    filesystem_storage,
    run_distribution,
    run_pyregistry,
)

TARGETS = ("fs", "dist", "s3", "dist-s3")
DESCRIPTIONS = {
    "fs": "pyregistry, filesystem",
    "dist": "distribution {version}, filesystem",
    "s3": "pyregistry, S3",
    "dist-s3": "distribution {version}, S3",
}


def describe(target: str, distribution_version: str) -> str:
    return DESCRIPTIONS[target].format(version=distribution_version)


def parse_targets(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in TARGETS]
    if unknown or not names:
        raise BenchSetupError(f"unknown targets {unknown}: choose from {','.join(TARGETS)}")
    return list(dict.fromkeys(names))


class S3Pool:
    """Starts the S3 server on first use and keeps it for every S3 target of the run."""

    def __init__(self, stack: contextlib.ExitStack, impl: str) -> None:
        self.stack = stack
        self.impl = impl
        self.endpoint: S3Endpoint | None = None

    def get(self) -> S3Endpoint:
        if self.endpoint is None:
            self.endpoint = self.stack.enter_context(run_s3(self.impl))
        return self.endpoint


@contextlib.contextmanager
def start_target(
    name: str,
    work: Path,
    *,
    workers: int | None,
    s3: Callable[[], S3Endpoint],
    distribution: str | None = None,
) -> Iterator[RunningRegistry]:
    """Run target ``name`` with its state under ``work`` until the block ends
    (``distribution``: the binary for the ``dist`` targets)."""
    if name == "fs":
        with run_pyregistry(work, filesystem_storage(work / "root"), workers=workers) as reg:
            yield reg
    elif name == "dist":
        storage = filesystem_storage(work / "root")
        with run_distribution(work, storage, binary=distribution) as reg:
            yield reg
    elif name == "s3":
        storage = s3().pyregistry_storage(unique_root("pyregistry"))
        with run_pyregistry(work, storage, workers=workers, name="pyregistry-s3") as reg:
            yield reg
    elif name == "dist-s3":
        binary = distribution_binary(distribution)
        storage = s3().distribution_storage(
            unique_root("distribution"), distribution_version(binary)
        )
        with run_distribution(work, storage, binary=binary, name="distribution-s3") as reg:
            yield reg
    else:
        raise BenchSetupError(f"unknown target {name!r}")
