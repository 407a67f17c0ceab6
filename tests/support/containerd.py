"""A private containerd (Debian's 1.6) and ``ctr`` bound to it, for the client and mirror tests.

containerd runs with its own root, state and sockets under a temporary directory and a
config that leaves out CRI and the snapshotters that need kernel features; the host's
containerd is never touched. Images are only fetched into its content store
(``ctr content fetch``), never unpacked or run. The registry host configuration
(``hosts.toml``) is given per fetch with ``--hosts-dir``, which ``ctr`` reads on the
client side exactly as containerd's CRI plugin reads ``config_path``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.command import CommandError, find_tool, run, stop_process

STARTUP_TIMEOUT = 30.0
_DISABLED = [
    "io.containerd.grpc.v1.cri",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.internal.v1.opt",
    "io.containerd.tracing.processor.v1.otlp",
]


class Ctr:
    """``ctr`` talking to one private containerd, in one namespace."""

    def __init__(self, socket_path: Path) -> None:
        self.binary = find_tool("ctr")
        self.base = ["--address", str(socket_path), "--namespace", "pyregistry-tests"]

    def __call__(self, *args: str, timeout: float = 120.0) -> str:
        return run([self.binary, *self.base, *args], timeout=timeout)

    def fetch(self, reference: str, hosts_dir: Path) -> None:
        """Fetch an image (manifest, config, layers) into the content store."""
        self("content", "fetch", "--hosts-dir", str(hosts_dir), reference)

    def content_digests(self) -> set[str]:
        """The digests of every blob in the content store."""
        lines = self("content", "ls", "--quiet").split()
        return {line for line in lines if line.startswith("sha256:")}


def write_hosts(hosts_dir: Path, registry: str, server: str, mirror: str, **extra: str) -> None:
    """``hosts_dir/<registry>/hosts.toml``: ``mirror`` (pull, resolve) before ``server``."""
    directory = hosts_dir / registry
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        f'server = "{server}"',
        "",
        f'[host."{mirror}"]',
        '  capabilities = ["pull", "resolve"]',
        *(f"  {key} = {value}" for key, value in extra.items()),
    ]
    (directory / "hosts.toml").write_text("\n".join(lines) + "\n")


@contextlib.contextmanager
def run_containerd() -> Iterator[Ctr]:
    """Start a private containerd and yield ``ctr`` bound to it; stop it, remove its state."""
    if os.geteuid() != 0:
        pytest.fail("containerd must run as root for the containerd client test", pytrace=False)
    binary = find_tool("containerd")
    base = Path(tempfile.mkdtemp(prefix="ctd-", dir="/tmp"))  # socket paths stay short
    try:
        socket_path = base / "c.sock"
        disabled = ", ".join(f'"{name}"' for name in _DISABLED)
        (base / "config.toml").write_text(
            "version = 2\n"
            f'root = "{base / "root"}"\n'
            f'state = "{base / "state"}"\n'
            f"disabled_plugins = [{disabled}]\n"
            f'[grpc]\n  address = "{socket_path}"\n'
            f'[ttrpc]\n  address = "{socket_path}.ttrpc"\n'
            '[debug]\n  address = ""\n'
            '[metrics]\n  address = ""\n'
        )
        log_path = base / "containerd.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [binary, "--config", str(base / "config.toml")],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            ctr = Ctr(socket_path)
            _wait_ready(ctr, process, log_path)
            yield ctr
        finally:
            stop_process(process)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _wait_ready(ctr: Ctr, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"containerd exited:\n{log_path.read_text()[-3000:]}", pytrace=False)
        try:
            ctr("version", timeout=10)
            return
        except CommandError:
            if time.monotonic() > deadline:
                pytest.fail(f"containerd did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
