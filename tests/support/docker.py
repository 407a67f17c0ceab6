"""A private dockerd (Debian docker.io 20.10) and the docker CLI as a real registry client.

dockerd runs as root with its own data-root, exec-root, pidfile, unix socket and an empty
config file, so it never touches a system daemon. When the machine runs its own containerd
(``/run/containerd/containerd.sock``, as Debian's docker.io does), dockerd attaches to it
rather than starting one: its own containerd namespaces keep it apart from the host's
dockerd there. vfs storage, no iptables and no bridge keep
it independent of kernel features; containers are never run. dockerd treats 127.0.0.0/8 as
an insecure (plain-HTTP) registry range by default, so no ``--insecure-registry`` flag is
needed for loopback registries on any port.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.command import CommandError, find_tool, run, stop_process

STARTUP_TIMEOUT = 60.0
_PUSH_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64}) size: \d+")
_PULL_DIGEST = re.compile(r"Digest: (sha256:[0-9a-f]{64})")


@dataclass(frozen=True)
class PushResult:
    """What ``docker push`` reported: the manifest digest and its progress lines."""

    digest: str
    output: str

    def mounted_from(self) -> list[str]:
        """Source repositories of layers the registry mounted instead of receiving them."""
        return re.findall(r"Mounted from (\S+)", self.output)


class Docker:
    """The docker CLI bound to one private daemon socket."""

    def __init__(self, socket_path: Path, config_dir: Path) -> None:
        self.binary = find_tool("docker")
        self.env = {"DOCKER_HOST": f"unix://{socket_path}", "DOCKER_CONFIG": str(config_dir)}

    def __call__(self, *args: str, timeout: float = 180.0) -> str:
        return run([self.binary, *args], env=self.env, timeout=timeout)

    def load(self, archive: Path) -> str:
        """``docker load -i``; returns docker's "Loaded image" line."""
        return self("load", "--input", str(archive)).strip()

    def tag(self, image: str, target: str) -> None:
        self("tag", image, target)

    def push(self, reference: str) -> PushResult:
        output = self("push", reference)
        match = _PUSH_DIGEST.search(output)
        if match is None:
            raise AssertionError(f"no digest in docker push output:\n{output}")
        return PushResult(digest=match.group(1), output=output)

    def pull(self, reference: str) -> str:
        """``docker pull``; returns the manifest digest docker reports."""
        output = self("pull", reference)
        match = _PULL_DIGEST.search(output)
        if match is None:
            raise AssertionError(f"no digest in docker pull output:\n{output}")
        return match.group(1)

    def inspect(self, image: str) -> dict[str, Any]:
        """``docker image inspect`` of one image (Id, RepoDigests, Architecture, ...)."""
        result = json.loads(self("image", "inspect", image))
        return dict(result[0])

    def remove_images(self, *images: str) -> None:
        self("rmi", "--force", *images)


def _wait_ready(docker: Docker, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"dockerd exited with {process.returncode}:\n{log_path.read_text(errors='replace')}"
            )
        try:
            docker("version", "--format", "{{.Server.Version}}", timeout=10)
            return
        except CommandError as error:
            last_error = error.stderr
            time.sleep(0.2)
        except subprocess.TimeoutExpired:
            # a dockerd still starting on a busy machine may take the socket's
            # connection and answer only later: ask again until the deadline
            last_error = "docker version took over 10 s"
    raise RuntimeError(
        f"dockerd not ready in {STARTUP_TIMEOUT}s ({last_error}):\n"
        + log_path.read_text(errors="replace")[-4000:]
    )


def _stop(process: subprocess.Popen[bytes], exec_root: Path) -> None:
    """Stop dockerd, then the containerd it started if that outlived it."""
    stop_process(process, timeout=30)
    pidfile = exec_root / "containerd" / "containerd.pid"
    with contextlib.suppress(OSError, ValueError):
        os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)


@contextlib.contextmanager
def run_dockerd(daemon_config: dict[str, Any] | None = None) -> Iterator[Docker]:
    """Start a private dockerd and yield a CLI bound to it; stop it and remove its state.
    ``daemon_config`` is its ``daemon.json`` (e.g. ``registry-mirrors``; default empty)."""
    if os.geteuid() != 0:
        pytest.fail("dockerd must run as root for the docker client tests", pytrace=False)
    dockerd = find_tool("dockerd")
    find_tool("containerd")
    # Short path: the unix socket path must stay under 108 bytes.
    base = Path(tempfile.mkdtemp(prefix="dockerd-", dir="/tmp"))
    try:
        (base / "daemon.json").write_text(json.dumps(daemon_config or {}))
        config_dir = base / "client"
        config_dir.mkdir()
        (config_dir / "config.json").write_text("{}")
        socket_path = base / "docker.sock"
        namespace = secrets.token_hex(4)  # containerd allows [A-Za-z0-9] and single [._-]
        log_path = base / "dockerd.log"
        argv = [
            dockerd,
            "--storage-driver",
            "vfs",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--data-root",
            str(base / "data"),
            "--exec-root",
            str(base / "exec"),
            "--pidfile",
            str(base / "docker.pid"),
            "--host",
            f"unix://{socket_path}",
            "--config-file",
            str(base / "daemon.json"),
            "--containerd-namespace",
            f"pyregistry-tests-{namespace}",
            "--containerd-plugins-namespace",
            f"pyregistry-tests-{namespace}-plugins",
        ]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        try:
            docker = Docker(socket_path, config_dir)
            _wait_ready(docker, process, log_path)
            yield docker
        finally:
            _stop(process, base / "exec")
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def docker() -> Iterator[Docker]:
    """One private dockerd for the whole session (starting one takes a few seconds)."""
    with run_dockerd() as client:
        yield client
