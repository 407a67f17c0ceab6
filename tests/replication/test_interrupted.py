"""A full sync whose process is killed mid-run: its record, left marked running, reads
as interrupted once its heartbeat expires (in ``pyregistry replication status`` too);
the next run goes ahead and records its own result beside it."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pyregistry.cli import main
from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from tests.replication.sites import serve_site, wait_until
from tests.support.registry_process import REPO_ROOT


@contextlib.contextmanager
def silent_target() -> Iterator[str]:
    """A port that takes connections and never answers: a run sending there hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def config_for(root: Path, target: str) -> str:
    document = {
        "version": "0.1",
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}},
        "http": {"addr": "127.0.0.1:0"},
        "replication": {
            "id": "s",
            "queue": {"lease": "1s"},
            "targets": [{"name": "t", "url": target, "timeout": "60s"}],
            "policies": [{"name": "to-t", "target": "t"}],
        },
    }
    path = root / f"config-{len(list(root.glob('config-*')))}.yml"
    path.write_text(yaml.safe_dump(document))
    return str(path)


def status(config: str, capsys: pytest.CaptureFixture[str], *flags: str) -> Any:
    capsys.readouterr()
    assert main(["replication", "status", config, *flags]) == 0
    out = capsys.readouterr().out
    return json.loads(out)["policies"]["to-t"]["executions"] if flags else out


def test_a_killed_run_reads_interrupted_and_the_next_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_site(tmp_path, "s") as source, RegistryClient(source.url) as client:
        digest = client.push("app/one", build_image(seed="interrupted", layers=1), tag="v1")
    with silent_target() as silent, (tmp_path / "run.log").open("wb") as log:
        hanging = config_for(tmp_path, silent)
        command = [sys.executable, "-m", "pyregistry", "replication", "run", "to-t", hanging]
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=log)
        try:
            running = wait_until(
                lambda: [e for e in status(hanging, capsys, "--json") if e["status"] == "running"],
                what="the run to be recorded as running",
            )
            time.sleep(1.5)  # longer than the lease: the heartbeat keeps it running
            assert status(hanging, capsys, "--json")[0]["status"] == "running"
            assert process.poll() is None
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
    killed = running[0]["id"]
    interrupted = wait_until(
        lambda: [e for e in status(hanging, capsys, "--json") if e["status"] == "interrupted"],
        timeout=5,
        what="the killed run to read as interrupted",
    )
    assert interrupted[0]["id"] == killed
    assert f"{killed} manual   interrupted" in status(hanging, capsys)

    with serve_site(tmp_path / "target", "t") as target:
        assert main(["replication", "run", "to-t", config_for(tmp_path, target.url)]) == 0
        with RegistryClient(target.url) as client:
            desc = client.head_manifest("app/one", "v1")
            assert desc is not None and desc.digest == digest
    executions = status(hanging, capsys, "--json")
    assert [(e["status"], e["id"] == killed) for e in executions] == [
        ("succeeded", False),
        ("interrupted", True),
    ]
    assert executions[0]["tally"]["copied"] >= 1
    # the killed run's heartbeat is cleaned up once it is written down as interrupted
    replication = tmp_path / "data" / "pyregistry" / "replication"
    assert (replication / "executions" / "to-t").is_file()
    # (a temporary file the killed process was writing may stay: the driver's litter)
    heartbeats = [p for p in (replication / "running").rglob("*") if p.is_file()]
    assert not [p for p in heartbeats if not p.name.startswith(".")]
