"""A real distribution 2.8 (Debian's ``docker-registry``) with htpasswd logins, over TLS
from a private CA (the target's ``tls.ca``), as the target of an event-driven push
policy; skopeo pushes at the top.

The multi-arch index arrives with the same digests (skopeo reads the same bytes at both
ends), blobs go up in chunks, and a delete at the source deletes the manifest there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest

from pyregistry.client import RegistryClient
from tests.client.tls import make_server_cert
from tests.replication.sites import Site, push_to, serve_site, wait_until
from tests.support.distribution import DistributionRegistry, run_distribution
from tests.support.images import build_multiarch, write_multiarch_layout
from tests.support.skopeo import Skopeo

USER, PASSWORD = "replicator", "s3cret-pass"
#: HQ, the distribution target, and the CA file that signed the target's certificate.
Target = tuple[Site, DistributionRegistry, str]


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    root: Path = tmp_path_factory.mktemp("distribution-target")
    htpasswd = root / "htpasswd"
    # the lowest bcrypt cost: distribution checks the password on every request
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    htpasswd.write_text(f"{USER}:{hashed}\n")
    cert = make_server_cert(root)
    options = {
        "auth": {"htpasswd": {"realm": "replication-test", "path": str(htpasswd)}},
        "http": {"tls": {"certificate": str(cert.certificate), "key": str(cert.key)}},
    }
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(run_distribution(root / "dist", options=options))
        replication = push_to("dist", f"https://{target.host}")
        replication["targets"][0].update(
            username=USER, password=PASSWORD, chunksize=4096, tls={"ca": str(cert.ca_file)}
        )
        hq = stack.enter_context(serve_site(root / "hq", "hq", replication))
        yield hq, target, str(cert.ca_file)


def dist_digest(target: Target, repository: str, reference: str) -> str | None:
    registry, ca_file = target[1], target[2]
    url = f"https://{registry.host}"
    with RegistryClient(url, credentials=(USER, PASSWORD), ca_file=ca_file) as client:
        desc = client.head_manifest(repository, reference)
        return desc.digest if desc else None


def test_skopeo_push_arrives_with_its_digests(
    sites: Target, skopeo: Skopeo, tmp_path: Path
) -> None:
    hq, target, _ = sites
    multi = build_multiarch(seed="dist-target", layers=2)
    layout = write_multiarch_layout(tmp_path / "layout", multi, tag="v1")
    pushed = skopeo.copy(f"oci:{layout}:v1", f"docker://{hq.host}/team/multi:v1", all_images=True)
    wait_until(lambda: dist_digest(sites, "team/multi", "v1") == pushed, what="the copy")
    creds = f"{USER}:{PASSWORD}"
    top = skopeo.inspect_raw(f"docker://{hq.host}/team/multi:v1")
    bottom = skopeo.inspect_raw(f"docker://{target.host}/team/multi:v1", creds=creds)
    assert top == bottom == multi.manifest
    for image in multi.images.values():
        raw = skopeo.inspect_raw(f"docker://{target.host}/team/multi@{image.digest}", creds=creds)
        assert raw == image.manifest
    # every blob was sent once, in 4 KiB chunks when larger than that
    log = target.log_text()
    blobs = {d for image in multi.images.values() for d in image.blobs()}
    assert log.count('"PUT /v2/team/multi/blobs/uploads/') == len(blobs)
    assert '"PATCH /v2/team/multi/blobs/uploads/' in log


def test_delete_reaches_distribution(sites: Target) -> None:
    hq = sites[0]
    multi = build_multiarch(seed="dist-delete", layers=1)
    with RegistryClient(hq.url) as client:
        digest = client.push("team/gone", multi, tag="v1")
    wait_until(lambda: dist_digest(sites, "team/gone", "v1") == digest, what="the copy")
    with RegistryClient(hq.url) as client:
        client.delete_manifest("team/gone", digest)
    wait_until(lambda: dist_digest(sites, "team/gone", digest) is None, what="the delete")
