"""Start ``pyregistry serve`` for the abuse tests: a chosen HTTP parser and event loop, an
optional open-file limit, several workers; logs kept in files for the assertions."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.command import stop_process
from tests.support.registry_process import (
    REPO_ROOT,
    free_port,
    server_errors_in,
    wait_for_port,
    write_config,
)

#: (HTTP parser, event loop) pairs every connection test runs with.
STACKS = [("h11", "asyncio"), ("httptools", "uvloop")]


class Registry:
    """A registry process on a free loopback port, serving ``directory/config.yml``."""

    def __init__(
        self,
        directory: Path,
        *,
        parser: str = "h11",
        loop: str = "asyncio",
        nofile: int | None = None,
        workers: int = 1,
        **sections: Any,
    ) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = write_config(directory, self.port, **sections)
        self.parser, self.loop, self.nofile, self.workers = parser, loop, nofile, workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def stdout(self) -> str:
        return self._read("stdout")

    @property
    def stderr(self) -> str:
        return self._read("stderr")

    def _read(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _limit(self) -> None:
        if self.nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def start(self, timeout: float = 20.0) -> Registry:
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        env.update(PYREGISTRY_HTTP=self.parser, PYREGISTRY_LOOP=self.loop)
        argv = [sys.executable, "-m", "pyregistry", "serve", str(self.config)]
        argv += ["--workers", str(self.workers)]  # the default is one per core
        self.starts += 1
        with (
            open(self.directory / "stdout.log", "ab") as out,
            open(self.directory / "stderr.log", "ab") as err,
        ):
            self.proc = subprocess.Popen(
                argv,
                env=env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                preexec_fn=self._limit,
            )
        wait_for_port(self.port, timeout, self.proc)
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group's registry (workers die with the supervisor's
        pipe, but a SIGKILLed supervisor cannot stop them: kill them too)."""
        assert self.proc is not None
        children = _children(self.proc.pid)
        self.proc.kill()
        self.proc.wait(timeout=10)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> int:
        return stop_process(self.proc, timeout=20) if self.proc is not None else 0

    def server_errors(self) -> list[str]:
        return server_errors_in(self.stdout, self.stderr)

    def __enter__(self) -> Registry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _children(pid: int) -> list[int]:
    """The direct children of ``pid`` (worker processes), from /proc."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []
