"""The registries under test, each a real server process on a free 127.0.0.1 port.

pyregistry runs as ``python -m pyregistry serve CONFIG`` from this checkout (its default
worker count unless ``--workers N`` is given); distribution as the binary named by
``--distribution`` / ``$PYREGISTRY_BENCH_DISTRIBUTION`` (3.1.1 built from its release tag,
the anchor the issue measures against), else Debian's 2.8 (``docker-registry``), either
as ``registry serve CONFIG`` with tracing export off. Both get a config.yml written here
with the same storage section, so the only difference is the server.
The bench is standalone: nothing here imports test code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION_BINARY = "/usr/bin/docker-registry"
#: Names the distribution binary to measure against (e.g. a v3.1.1 build).
DISTRIBUTION_ENV = "PYREGISTRY_BENCH_DISTRIBUTION"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


class BenchSetupError(RuntimeError):
    """A server could not be started; the message says what to install or what it logged."""


@dataclass(frozen=True)
class RunningRegistry:
    """A registry answering on ``url``; ``pid`` is the process whose tree holds it."""

    name: str
    url: str
    pid: int
    log_path: Path

    def log_tail(self, limit: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return "(no log)"


def server_environment() -> dict[str, str]:
    """This environment minus ``AWS_*``: a CA bundle, endpoint or profile meant for the
    real AWS would override (or, in distribution's SDK, crash) the bench's S3 settings."""
    return {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}


def free_port() -> int:
    """A loopback port nobody listens on (bound as port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def filesystem_storage(root: Path) -> dict[str, Any]:
    """``storage:`` for a filesystem root, deletes on, no background upload purging."""
    return {
        "filesystem": {"rootdirectory": str(root)},
        "delete": {"enabled": True},
        "maintenance": {"uploadpurging": {"enabled": False}},
    }


def registry_config(storage: Mapping[str, Any], port: int) -> dict[str, Any]:
    """A config.yml both servers accept: loopback address, info logs, access log on."""
    return {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": False}},
        "storage": dict(storage),
        "http": {"addr": f"127.0.0.1:{port}", "secret": "pyregistry-bench-secret"},
        "health": {"storagedriver": {"enabled": False}},
    }


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Poll ``GET /v2/`` until the registry answers (any HTTP status means it is up)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchSetupError(
                f"{process.args!r} exited with {process.returncode}:\n"
                + log_path.read_text(errors="replace")[-3000:]
            )
        try:
            with urllib.request.urlopen(f"{url}/v2/", timeout=2) as response:
                response.read()
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise BenchSetupError(
        f"no answer from {url}/v2/ after {READY_TIMEOUT}s:\n"
        + log_path.read_text(errors="replace")[-3000:]
    )


def stop_process(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM (a graceful drain), SIGKILL if it takes longer than ``timeout``."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def _serve(
    name: str,
    argv: list[str],
    work: Path,
    port: int,
    env: Mapping[str, str] | None = None,
) -> Iterator[RunningRegistry]:
    log_path = work / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=str(work),
            env=dict(env) if env is not None else None,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process, log_path)
        yield RunningRegistry(name=name, url=url, pid=process.pid, log_path=log_path)
    finally:
        stop_process(process)


@contextlib.contextmanager
def run_pyregistry(
    work: Path,
    storage: Mapping[str, Any],
    *,
    workers: int | None = None,
    name: str = "pyregistry",
    sections: Mapping[str, Any] | None = None,
) -> Iterator[RunningRegistry]:
    """``python -m pyregistry serve`` from this checkout with ``workers`` processes (None:
    pyregistry's default, one per core); ``sections`` are added to its config.yml."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config_path = work / f"{name}.yml"
    config = {**registry_config(storage, port), **(sections or {})}
    config_path.write_text(yaml.safe_dump(config))
    env = server_environment()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env.pop("PYREGISTRY_WORKERS", None)
    argv = [sys.executable, "-m", "pyregistry", "serve", str(config_path)]
    if workers is not None:
        argv += ["--workers", str(workers)]
    with _serve(name, argv, work, port, env) as registry:
        yield registry


def add_reference_options(parser: argparse.ArgumentParser) -> None:
    """``--distribution PATH`` and ``--no-distribution``, for :func:`chosen_reference`."""
    parser.add_argument(
        "--distribution", metavar="PATH", help="reference binary (default: Debian's 2.8)"
    )
    parser.add_argument(
        "--no-distribution", action="store_true", help="leave out the reference rows"
    )


def chosen_reference(args: argparse.Namespace) -> str | None:
    """The reference binary the options of :func:`add_reference_options` chose, or None."""
    return None if args.no_distribution else distribution_binary(args.distribution)


def distribution_binary(path: str | None = None) -> str:
    """``path`` (else ``$PYREGISTRY_BENCH_DISTRIBUTION``), else docker-registry's path, or a
    setup error saying what is missing."""
    chosen = path or os.environ.get(DISTRIBUTION_ENV)
    if chosen:
        if not os.access(chosen, os.X_OK):
            raise BenchSetupError(f"distribution binary {chosen!r} is not an executable file")
        return os.path.abspath(chosen)  # the servers run in their own work directories
    if os.access(DISTRIBUTION_BINARY, os.X_OK):
        return DISTRIBUTION_BINARY
    found = shutil.which("docker-registry")
    if found is None:
        raise BenchSetupError(
            "distribution 2.8 (docker-registry) not found: apt-get install docker-registry"
        )
    return found


def distribution_version(binary: str) -> str:
    """``3.1.1``, ``2.8.2``... from ``registry --version`` (``?`` when it says nothing)."""
    try:
        result = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    match = re.search(r"\bv?(\d+\.\d+\.\d+)", result.stdout + result.stderr)
    return match.group(1) if match else "?"


@contextlib.contextmanager
def run_distribution(
    work: Path,
    storage: Mapping[str, Any],
    *,
    binary: str | None = None,
    name: str = "distribution",
    sections: Mapping[str, Any] | None = None,
) -> Iterator[RunningRegistry]:
    """distribution (``binary``, see :func:`distribution_binary`) with the same kind of
    config as pyregistry; ``sections`` are added to its config.yml (``proxy``...)."""
    binary = distribution_binary(binary)
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config_path = work / f"{name}.yml"
    config = {**registry_config(storage, port), **(sections or {})}
    config_path.write_text(yaml.safe_dump(config))
    argv = [binary, "serve", str(config_path)]
    env = server_environment()
    env["OTEL_TRACES_EXPORTER"] = "none"  # 3.x exports traces to localhost:4318 otherwise
    with _serve(name, argv, work, port, env) as registry:
        yield registry
