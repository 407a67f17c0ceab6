"""``/debug/vars`` shows replication as storage has it, whatever process answers: with
several workers the debug server runs in the supervisor, which replicates nothing, and
still shows the executions a worker recorded and the queue it emptied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from tests.replication.sites import push_to, serve_site, wait_until
from tests.support.registry_process import RegistryProcess, free_port, write_config


def test_the_supervisor_of_several_workers_shows_replication(tmp_path: Path) -> None:
    with serve_site(tmp_path / "target", "t") as target:
        port, debug_port = free_port(), free_port()
        replication = {"id": "s", **push_to("t", target.url)}
        replication["queue"] = {"poll": "100ms"}
        (tmp_path / "source").mkdir()
        config = write_config(
            tmp_path / "source",
            port,
            http={"debug": {"addr": f"127.0.0.1:{debug_port}"}},
            replication=replication,
        )
        workers = {"PYREGISTRY_WORKERS": "2"}
        with RegistryProcess(["serve", str(config)], port=port, env=workers) as source:
            assert source.proc is not None
            with RegistryClient(f"http://127.0.0.1:{port}") as client:
                digest = client.push("app/x", build_image(seed="vars", layers=1), tag="v1")

            def shown() -> dict[str, Any] | None:
                answer = httpx.get(f"http://127.0.0.1:{debug_port}/debug/vars", timeout=5)
                assert answer.status_code == 200
                values: dict[str, Any] = answer.json()
                policy = values.get("registry", {}).get("replication", {}).get("policies", {})
                executions = policy.get("to-t", {}).get("executions")
                return values if executions and policy["to-t"]["pending"] == 0 else None

            values = wait_until(shown, what="the execution on /debug/vars")
        with RegistryClient(target.url) as client:
            desc = client.head_manifest("app/x", "v1")
            assert desc is not None and desc.digest == digest
    assert values["process"]["pid"] == source.proc.pid  # the supervisor answered
    shown_replication = values["registry"]["replication"]
    assert shown_replication["id"] == "s"
    execution = shown_replication["policies"]["to-t"]["executions"][0]
    assert execution["status"] == "succeeded"
    assert execution["trigger"] == "event"
    assert execution["tally"]["copied"] >= 1
