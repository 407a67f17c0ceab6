"""The HTTP stack: httptools and uvloop when installed, h11 and asyncio's loop when not.

``/proc/<pid>/maps`` shows which compiled modules a serving process really loaded. The
fallback is tested by putting packages named ``httptools`` and ``uvloop`` that fail to
import first on the path, as on a machine without them.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import httpx
import pytest

from pyregistry import http_stack
from tests.support.registry_process import REPO_ROOT, RegistryProcess, free_port, write_config
from tests.support.workers import worker_pids


def test_fast_stack_is_installed_and_chosen() -> None:
    assert http_stack.http_implementation() == "httptools"
    assert http_stack.loop_implementation() == "uvloop"

    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert http_stack.run(loop_module()).startswith("uvloop")


def block_fast_stack(directory: Path) -> str:
    """A PYTHONPATH on which ``import httptools`` and ``import uvloop`` fail."""
    for name in ("httptools", "uvloop"):
        package = directory / name
        package.mkdir()
        (package / "__init__.py").write_text(f"raise ImportError('{name} blocked by the test')\n")
    return f"{directory}:{REPO_ROOT}"


def loaded(pid: int, name: str) -> bool:
    return name in Path(f"/proc/{pid}/maps").read_text()


def serving_pids(process: RegistryProcess, workers: int) -> list[int]:
    assert process.proc is not None
    if workers == 1:
        return [process.proc.pid]
    deadline = time.monotonic() + 20
    while len(pids := worker_pids(process.proc.pid)) < workers and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(pids) == workers
    return pids


def push_and_pull(port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    blob = b"served by whichever stack is there" * 1000
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    done = httpx.post(f"{base}/v2/stack/blobs/uploads/", params={"digest": digest}, content=blob)
    assert done.status_code == 201, done.text
    for _ in range(6):
        got = httpx.get(f"{base}/v2/stack/blobs/{digest}", headers={"connection": "close"})
        assert got.status_code == 200 and got.content == blob
        head = httpx.head(f"{base}/v2/stack/blobs/{digest}", headers={"connection": "close"})
        assert head.status_code == 200 and head.headers["content-length"] == str(len(blob))


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("stack", ["fast", "pure-python"])
def test_serve_on_either_stack(tmp_path: Path, workers: int, stack: str) -> None:
    port = free_port()
    config = write_config(tmp_path, port)
    env: dict[str, str | None] = {"PYREGISTRY_WORKERS": str(workers)}
    if stack == "pure-python":
        blocked = tmp_path / "blocked"
        blocked.mkdir()
        env["PYTHONPATH"] = block_fast_stack(blocked)
    with RegistryProcess(["serve", str(config)], port=port, env=env) as process:
        push_and_pull(port)
        for pid in serving_pids(process, workers):
            assert loaded(pid, "httptools") is (stack == "fast")
            assert loaded(pid, "uvloop") is (stack == "fast")
        assert process.stop() == 0
    if stack == "fast":
        assert "HTTP parser httptools, event loop uvloop" in process.stderr
    else:
        assert "HTTP parser h11, event loop asyncio" in process.stderr
