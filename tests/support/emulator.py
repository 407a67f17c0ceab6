"""A storage emulator (gcp-storage-emulator, Azurite) as a test server: started with its
output in a log, waited for until ``ready()`` says it answers, stopped at the end; a
start-up that fails shows the log's tail."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.command import stop_process

STARTUP_TIMEOUT = 60.0


@contextlib.contextmanager
def running(
    name: str, argv: Callable[[Path], list[str]], ready: Callable[[], bool]
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv(state_dir)`` until the block ends; ``ready`` is polled (an exception
    counts as not yet) until it is true."""
    state = Path(tempfile.mkdtemp(prefix=f"pyregistry-{name}-"))
    log = state / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            argv(state), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"{name} exited:\n{log.read_text()[-2000:]}", pytrace=False)
            with contextlib.suppress(Exception):
                if ready():
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer:\n{log.read_text()[-2000:]}", pytrace=False)
            time.sleep(0.1)
        yield process
    finally:
        stop_process(process)
        shutil.rmtree(state, ignore_errors=True)
