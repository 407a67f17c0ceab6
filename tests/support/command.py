"""Running external programs from tests: find them, run them, fail loudly with stderr.

Tests must never skip because a tool is absent; they fail and say which Debian package
provides it, so the test command can be fixed instead of silently testing less.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

# Debian packages that provide each program the real-client tests drive.
APT_PACKAGES: dict[str, str] = {
    "docker-registry": "docker-registry",
    "skopeo": "skopeo",
    "podman": "podman",
    "buildah": "buildah",
    "dockerd": "docker.io",
    "docker": "docker.io",
    "containerd": "docker.io",
    "busybox": "busybox-static",
}

# Preferred locations: the CLI that ships with the daemon beats another one earlier on PATH.
_PREFERRED: dict[str, tuple[str, ...]] = {
    "docker": ("/usr/bin/docker",),
    "dockerd": ("/usr/sbin/dockerd", "/usr/bin/dockerd"),
    "docker-registry": ("/usr/bin/docker-registry",),
}


class CommandError(RuntimeError):
    """A program exited non-zero; the message carries its command line and stderr."""

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"command failed ({returncode}): {' '.join(self.argv)}\n"
            f"--- stderr ---\n{stderr.strip()}\n--- stdout ---\n{stdout.strip()[-2000:]}"
        )


def find_tool(name: str) -> str:
    """Return the absolute path of ``name`` or fail the test with the apt command to fix it."""
    for candidate in _PREFERRED.get(name, ()):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found is None:
        package = APT_PACKAGES.get(name, name)
        everything = " ".join(sorted(set(APT_PACKAGES.values())))
        pytest.fail(
            f"{name!r} is not installed: run `apt-get install -y {package}` "
            f"(all real-client tools: apt-get install -y {everything})",
            pytrace=False,
        )
    return found


def run_bytes(
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120.0,
    input_bytes: bytes | None = None,
) -> bytes:
    """Run a program to completion and return its raw stdout; raise ``CommandError`` on failure."""
    args = [os.fspath(a) for a in argv]
    full_env = dict(os.environ)
    if env is not None:
        full_env.update(env)
    proc = subprocess.run(
        args,
        input=input_bytes,
        capture_output=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise CommandError(
            args,
            proc.returncode,
            proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"),
        )
    return proc.stdout


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120.0,
) -> str:
    """Like ``run_bytes`` but returns stdout as text."""
    return run_bytes(argv, env=env, cwd=cwd, timeout=timeout).decode("utf-8", "replace")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, then release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(
    process: subprocess.Popen[Any], *, sig: int = signal.SIGTERM, timeout: float = 10.0
) -> int:
    """Send ``sig`` (if it still runs) and wait; SIGKILL when it will not exit in time.
    Returns the exit status."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return int(process.returncode)
