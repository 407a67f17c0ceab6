"""Upstreams over TLS (issue 15's per-upstream TLS options): a mirror trusts an upstream's
certificate through its ``ca`` file or, with ``insecure``, without checking it, and one
it cannot verify is an OCI error at once. The upstream is distribution 2.8 serving HTTPS
with a throwaway CA's certificate; the answers' times land in the latency histogram."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client import REGISTRY

from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from tests.client.tls import make_server_cert
from tests.proxy.conftest import MirrorFactory
from tests.support.distribution import DistributionFactory


def _answers_timed(upstream: str) -> float:
    """How many upstream answers the latency histogram holds for ``upstream``."""
    total = 0.0
    for kind in ("manifest", "blob"):
        count = REGISTRY.get_sample_value(
            "registry_proxy_upstream_request_seconds_count", {"upstream": upstream, "kind": kind}
        )
        total += count or 0.0
    return total


def test_a_ca_file_or_insecure_reaches_a_tls_upstream_and_nothing_else_does(
    distribution_registry_factory: DistributionFactory,
    start_mirror: MirrorFactory,
    tmp_path: Path,
) -> None:
    cert = make_server_cert(tmp_path)
    tls = {"tls": {"certificate": str(cert.certificate), "key": str(cert.key)}}
    upstream = f"https://{distribution_registry_factory(options={'http': tls}).host}"
    image = build_image(seed="mirror-tls", layers=2)
    with RegistryClient(upstream, ca_file=str(cert.ca_file)) as client:
        client.push("team/app", image, "v1")
    mirror = start_mirror(
        mirrors=[
            {"prefix": "trusted", "url": upstream, "ca": str(cert.ca_file)},
            {"prefix": "unchecked", "url": upstream, "insecure": True},
            {"prefix": "strict", "url": upstream},
        ],
        allow_server_errors=True,
    )
    timed = _answers_timed("trusted")
    with RegistryClient(mirror) as client:
        for prefix in ("trusted", "unchecked"):
            assert client.get_manifest(f"{prefix}/team/app", "v1").digest == image.digest
            for digest, data in image.blobs().items():
                assert client.get_blob(f"{prefix}/team/app", digest) == data
    assert _answers_timed("trusted") >= timed + 1 + len(image.blobs())

    # the certificate cannot be verified: an OCI error at once, and nothing cached
    for path in ("manifests/v1", f"blobs/{image.layers[0].digest}"):
        answer = httpx.get(f"{mirror}/v2/strict/team/app/{path}", timeout=30)
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["errors"][0]["code"] == "UNAVAILABLE"
