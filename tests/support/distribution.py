"""The reference registry (Debian's distribution 2.8 ``docker-registry``) as a test fixture.

pyregistry claims to be a drop-in for distribution: same HTTP API and same on-disk layout.
Running the real thing on loopback lets tests compare behaviour and hand a storage root
from one server to the other.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.command import find_tool, free_port, stop_process

STARTUP_TIMEOUT = 20.0


#: Storage drivers an ``options`` mapping may name instead of the filesystem.
OTHER_DRIVERS = {"s3", "swift", "azure", "gcs", "inmemory"}


@dataclass(frozen=True)
class DistributionRegistry:
    """A running distribution 2.8 on 127.0.0.1: where it listens and where it keeps blobs."""

    host: str  # "127.0.0.1:PORT", the form clients put in image references
    url: str  # "http://127.0.0.1:PORT"
    root: Path  # storage.filesystem.rootdirectory
    config_path: Path
    log_path: Path  # stderr + stdout (application and access log)
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        """Everything the registry has logged so far, e.g. to count mount requests."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``extra`` into a copy of ``base`` (mappings merge, anything else replaces)."""
    merged = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = _merge(current, value)
        else:
            merged[key] = value
    return merged


def build_config(root: Path, port: int, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A distribution config for a loopback filesystem registry with deletes enabled.

    No blob descriptor cache: distribution 2.8's in-memory cache keeps answering for
    deleted blobs, which would make delete tests lie.
    """
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": False}},
        "storage": {
            "filesystem": {"rootdirectory": str(root)},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {
            "addr": f"127.0.0.1:{port}",
            "secret": "pyregistry-test-secret",
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        },
        "health": {"storagedriver": {"enabled": False}},
    }
    merged = _merge(config, options or {})
    if set(merged["storage"]) & OTHER_DRIVERS:  # one driver only: theirs replaces ours
        del merged["storage"]["filesystem"]
    return merged


def _environment() -> dict[str, str]:
    """This process's environment without ``AWS_CA_BUNDLE``: distribution 2.8's S3 driver
    refuses to start with one set (its AWS SDK cannot load a bundle into the driver's own
    HTTP transport), and the S3 servers of the tests are plain HTTP on loopback."""
    return {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Poll ``GET /v2/`` until it answers (any HTTP status counts: auth may be configured)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"docker-registry exited with {process.returncode}:\n"
                + log_path.read_text(errors="replace")
            )
        try:
            with urllib.request.urlopen(f"{url}/v2/", timeout=2) as response:
                response.read()
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(
        f"docker-registry did not answer {url}/v2/ within {STARTUP_TIMEOUT}s:\n"
        + log_path.read_text(errors="replace")
    )


@contextlib.contextmanager
def run_distribution(
    root: Path | None = None,
    *,
    options: Mapping[str, Any] | None = None,
) -> Iterator[DistributionRegistry]:
    """Run distribution 2.8 on a free loopback port until the block exits.

    ``root`` is the storage root (created if missing; a temporary one when omitted and then
    removed afterwards). ``options`` are deep-merged into the generated config.yml; one that
    names another storage driver (``storage: {s3: ...}``) replaces the filesystem.
    """
    binary = find_tool("docker-registry")
    with tempfile.TemporaryDirectory(prefix="distribution-") as work:
        work_dir = Path(work)
        storage_root = root if root is not None else work_dir / "storage"
        storage_root.mkdir(parents=True, exist_ok=True)
        port = free_port()
        config_path = work_dir / "config.yml"
        config_path.write_text(yaml.safe_dump(build_config(storage_root, port, options)))
        log_path = work_dir / "registry.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [binary, "serve", str(config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_environment(),
            )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url, process, log_path)
            yield DistributionRegistry(
                host=f"127.0.0.1:{port}",
                url=url,
                root=storage_root,
                config_path=config_path,
                log_path=log_path,
                process=process,
            )
        finally:
            stop_process(process)


DistributionFactory = Callable[..., DistributionRegistry]


@pytest.fixture
def distribution_registry_factory() -> Iterator[DistributionFactory]:
    """Start any number of distribution registries: ``start(root=None, options=None)``.

    All of them stop when the test ends.
    """
    with contextlib.ExitStack() as stack:

        def start(
            root: Path | None = None, options: Mapping[str, Any] | None = None
        ) -> DistributionRegistry:
            return stack.enter_context(run_distribution(root, options=options))

        yield start


@pytest.fixture
def distribution_registry() -> Iterator[DistributionRegistry]:
    """A fresh distribution 2.8 on a temporary filesystem root, deletes enabled."""
    with run_distribution() as registry:
        yield registry


@pytest.fixture(scope="module")
def distribution_registry_module() -> Iterator[DistributionRegistry]:
    """One distribution 2.8 shared by a test module, for tests that only add content."""
    with run_distribution() as registry:
        yield registry
