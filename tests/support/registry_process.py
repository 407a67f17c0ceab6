"""Run ``python -m pyregistry ...`` as a real subprocess on a loopback port, for tests.

Output goes to files (no pipe can fill up); :meth:`RegistryProcess.stop` sends a signal
and returns the exit status. Plain helpers, no fixtures: import what you need.

Leaving the ``with`` block fails the test when the access log shows a 5xx other than the
health gate's 503, or the application log a traceback (``allow_server_errors`` opts out).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from tests.support.command import free_port, stop_process

__all__ = ["REPO_ROOT", "RegistryProcess", "free_port", "server_errors_in", "write_config"]

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The status in an access-log line: Combined Log Format (text) or distribution's JSON key.
_ACCESS_STATUS = re.compile(r'HTTP/[\d.]+" (\d{3}) |"http\.response\.status": (\d{3})')


def write_config(directory: Path, port: int, **sections: Any) -> Path:
    """Write ``directory/config.yml`` for a registry on ``127.0.0.1:port``.

    Storage is the filesystem under ``directory/data`` unless ``storage`` is given;
    ``http`` entries are merged with the address; any other section is added as given."""
    http = {"addr": f"127.0.0.1:{port}", **sections.pop("http", {})}
    storage = sections.pop("storage", {"filesystem": {"rootdirectory": str(directory / "data")}})
    document = {"version": "0.1", "storage": storage, "http": http, **sections}
    path = directory / "config.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def server_errors_in(access_log: str, app_log: str) -> list[str]:
    """Access-log lines answering 5xx (but 503) and tracebacks in the application log."""
    errors = []
    for line in access_log.splitlines():
        match = _ACCESS_STATUS.search(line)
        status = int(next(g for g in match.groups() if g)) if match else 0
        if status >= 500 and status != 503:
            errors.append(line)
    if "Traceback (most recent call last)" in app_log:
        errors.append(f"traceback in the application log:\n{app_log[-3000:]}")
    return errors


def wait_for_port(port: int, timeout: float, alive: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and alive.poll() is not None:
            raise RuntimeError(f"process exited with {alive.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


class RegistryProcess:
    """``pyregistry ARGS`` in ``cwd``, with ``env`` added to the environment (a None value
    removes the variable)."""

    def __init__(
        self,
        args: list[str],
        *,
        port: int,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str | None] | None = None,
        wait_ports: tuple[int, ...] = (),
        allow_server_errors: bool = False,
    ) -> None:
        self.args = args
        self.allow_server_errors = allow_server_errors
        self.port = port
        self.cwd = str(cwd) if cwd else None
        self.extra_env = dict(env or {})
        self.wait_ports = wait_ports
        self._logs = tempfile.TemporaryDirectory(prefix="pyregistry-proc-")
        self.proc: subprocess.Popen[bytes] | None = None
        self._kept: dict[str, str] = {}

    def _output(self, name: str) -> str:
        if name in self._kept:
            return self._kept[name]
        return Path(self._logs.name, name).read_text(errors="replace")

    @property
    def stdout(self) -> str:
        """What the process printed on stdout (the access log) so far."""
        return self._output("stdout")

    @property
    def stderr(self) -> str:
        """What the process printed on stderr (the application log) so far."""
        return self._output("stderr")

    def server_errors(self) -> list[str]:
        """What :func:`server_errors_in` finds in this process's logs so far."""
        return server_errors_in(self.stdout, self.stderr)

    def start(self, timeout: float = 20.0) -> RegistryProcess:
        env: dict[str, str | None] = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
        )
        # One worker unless the test asks for more: the default (one per core) would make
        # every test's registry as big as the machine; tests of the default remove this.
        env.setdefault("PYREGISTRY_WORKERS", "1")
        env.update(self.extra_env)
        environment = {name: value for name, value in env.items() if value is not None}
        with (
            open(Path(self._logs.name, "stdout"), "wb") as out,
            open(Path(self._logs.name, "stderr"), "wb") as err,
        ):
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pyregistry", *self.args],
                cwd=self.cwd,
                env=environment,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        try:
            for port in (self.port, *self.wait_ports):
                wait_for_port(port, timeout, self.proc)
        except Exception as exc:
            self.stop(signal.SIGKILL)
            raise RuntimeError(f"{exc}\nstderr:\n{self.stderr}\nstdout:\n{self.stdout}") from exc
        return self

    def send_signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send ``sig`` and wait; SIGKILL if it does not exit in time. The exit status."""
        if self.proc is None:
            return 0
        return stop_process(self.proc, sig=sig, timeout=timeout)

    def __enter__(self) -> RegistryProcess:
        return self.start() if self.proc is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._kept = {name: self._output(name) for name in ("stdout", "stderr")}
        self._logs.cleanup()
        errors = self.server_errors()
        if exc is None and errors and not self.allow_server_errors:
            raise AssertionError(
                "the registry answered with server errors (no request may get a 500):\n"
                + "\n".join(errors)
            )
