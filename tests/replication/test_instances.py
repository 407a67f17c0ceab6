"""Two instances on one storage with the same push policy: each change is sent once
(the queue is on the shared storage, one instance holds the policy's lease), whichever
instance received the push; the status shows on ``/debug/vars`` and in Prometheus."""

from __future__ import annotations

import contextlib
from pathlib import Path

from prometheus_client import generate_latest

from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from pyregistry.debug import expvar
from tests.replication.sites import push_to, serve_site, wait_until


def test_two_instances_send_each_change_once(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(serve_site(tmp_path / "target", "target"))
        replication = push_to("target", target.url)
        one = stack.enter_context(serve_site(tmp_path / "shared", "src", replication))
        two = stack.enter_context(serve_site(tmp_path / "shared", "src", replication))
        digests = []
        for i, site in enumerate((one, two, one, two)):
            with RegistryClient(site.url) as client:
                digests.append(client.push("many/app", build_image(seed=f"i{i}"), tag=f"v{i}"))

        def arrived() -> bool:
            with RegistryClient(target.url) as client:
                return all(client.head_manifest("many/app", f"v{i}") is not None for i in range(4))

        wait_until(arrived, what="all four tags")
        assert target.counter.counts["PUT manifests"] == 4
        assert target.counter.counts["POST uploads"] == 12  # config + two layers, once each

        vars_now = expvar.snapshot()["registry"]["replication"]
        assert vars_now["id"] == "src"
        assert "to-target" in vars_now["policies"]
        metrics = generate_latest().decode()
        assert 'pyregistry_replication_items_total{policy="to-target",result="copied"}' in metrics
        assert "pyregistry_replication_lag_seconds" in metrics
