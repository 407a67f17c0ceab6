"""``python -m bench.mirror_image``: a whole image through the mirror, pulled by skopeo.

``python -m bench.mirror`` pulls one blob with a bare streamed GET, the cheapest client
there is, so on loopback its cold row weighs the mirror's work against almost nothing.
A real client also checks every blob's digest and writes it down, and fetches layers
side by side. Here skopeo (``skopeo copy docker://... dir:...``, the containers/image
library of podman and buildah) copies one image of ``--layers`` random layers of
``--layer-mib`` MiB each, in four ways, each round with a fresh image:

* ``direct``: from the upstream (a pyregistry server);
* ``cold``: through the mirror (prefix ``up/`` of ``mirrors``), never pulled before;
* ``warm``: the same again, once the mirror has committed every layer;
* ``local``: the same image pushed to a normal repository of the mirror.

The reference (unless ``--no-distribution``): distribution (Debian's 2.8, or the binary
given by ``--distribution``) as a pull-through cache of the same upstream (its ``proxy``
section), pulled in the same rounds: ``dist cold`` against the same ``direct``, ``dist
warm`` once it has committed every layer, against ``warm``'s ``local``.

Both pyregistry servers run with their default worker count (one per core); skopeo
writes to a directory under ``/dev/shm`` when there is one, so the disk does not set the
pace. Figures are MiB/s of image bytes over the whole copy (manifest, config and every
layer), best of ``--repeat`` rounds; the targets are issue 15's (cold within 10% of
direct, warm as fast as local).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.mirror import wait_stored
from bench.servers import (
    BenchSetupError,
    add_reference_options,
    chosen_reference,
    distribution_version,
    filesystem_storage,
    run_distribution,
    run_pyregistry,
)
from pyregistry.client import RegistryClient

MiB = 1024 * 1024
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
#: Each compared row, the row it is held against, and the issue's target ratio (None:
#: the reference's rows).
COMPARISONS: tuple[tuple[str, str, float | None], ...] = (
    ("cold", "direct", 0.9),
    ("warm", "local", 1.0),
    ("dist cold", "direct", None),
    ("dist warm", "local", None),
)


def skopeo_binary() -> str:
    found = shutil.which("skopeo")
    if found is None:
        raise BenchSetupError("skopeo not found: apt-get install skopeo")
    return found


def push_image(url: str, repository: str, tag: str, layers: list[bytes]) -> list[str]:
    """Push an OCI image of ``layers`` under ``repository:tag``; the layers' digests."""
    with RegistryClient(url) as client:
        digests = [client.push_blob(repository, layer) for layer in layers]
        config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
        config_digest = client.push_blob(repository, config)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [
                {"mediaType": OCI_LAYER, "digest": digest, "size": len(layer)}
                for digest, layer in zip(digests, layers, strict=True)
            ],
        }
        client.push_manifest(repository, tag, json.dumps(manifest).encode(), OCI_MANIFEST)
    return digests


def copy_rate(skopeo: str, source: str, destination: Path, size: int) -> float:
    """``skopeo copy`` of ``source`` (``host:port/repo:tag``) into ``destination``: MiB/s."""
    shutil.rmtree(destination, ignore_errors=True)
    argv = [skopeo, "copy", "--src-tls-verify=false", "--src-no-creds"]
    started = time.perf_counter()
    subprocess.run(
        [*argv, f"docker://{source}", f"dir:{destination}"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    shutil.rmtree(destination, ignore_errors=True)
    return size / MiB / elapsed


def scratch_root() -> str | None:
    """Where skopeo's copies go: /dev/shm when the machine has one."""
    return "/dev/shm" if os.path.isdir("/dev/shm") else None


def run(
    layers: int, layer_size: int, repeat: int, work: Path, distribution: str | None = None
) -> dict[str, float]:
    """Best MiB/s of each row over ``repeat`` rounds (``distribution``: the reference's
    binary, None: no reference rows)."""
    skopeo = skopeo_binary()
    rows = ("direct", "cold", "warm", "local") + (
        ("dist cold", "dist warm") if distribution else ()
    )
    best = dict.fromkeys(rows, 0.0)
    with contextlib.ExitStack() as stack:
        up = stack.enter_context(run_pyregistry(work / "up", filesystem_storage(work / "up-data")))
        mirror_data = work / "mirror-data"
        mirror = stack.enter_context(
            run_pyregistry(
                work / "mirror",
                filesystem_storage(mirror_data),
                name="mirror",
                sections={"mirrors": [{"prefix": "up", "url": up.url}]},
            )
        )
        dist_data = work / "dist-proxy-data"
        dist = None
        if distribution:
            dist = stack.enter_context(
                run_distribution(
                    work / "dist-proxy",
                    filesystem_storage(dist_data),
                    binary=distribution,
                    name="distribution-proxy",
                    sections={"proxy": {"remoteurl": up.url}},
                )
            )
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=scratch_root())))
        up_host, mirror_host = up.url.split("://", 1)[1], mirror.url.split("://", 1)[1]
        for round_ in range(repeat):
            tag = f"r{round_}"
            data = [os.urandom(layer_size) for _ in range(layers)]
            size = sum(map(len, data))
            digests = push_image(up.url, "team/img", tag, data)
            mirrored = f"{mirror_host}/up/team/img:{tag}"
            rates = {
                "direct": copy_rate(skopeo, f"{up_host}/team/img:{tag}", scratch / "d", size),
                "cold": copy_rate(skopeo, mirrored, scratch / "c", size),
            }
            for digest in digests:
                wait_stored(mirror_data, "up/team/img", digest)
            rates["warm"] = copy_rate(skopeo, mirrored, scratch / "w", size)
            push_image(mirror.url, "local/img", tag, data)
            local = f"{mirror_host}/local/img:{tag}"
            rates["local"] = copy_rate(skopeo, local, scratch / "l", size)
            if dist is not None:
                proxied = f"{dist.url.split('://', 1)[1]}/team/img:{tag}"
                rates["dist cold"] = copy_rate(skopeo, proxied, scratch / "dc", size)
                for digest in digests:
                    wait_stored(dist_data, "team/img", digest)
                rates["dist warm"] = copy_rate(skopeo, proxied, scratch / "dw", size)
            del data
            for row, rate in rates.items():
                best[row] = max(best[row], rate)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mirror_image", description=__doc__)
    parser.add_argument("--layers", type=int, default=4, help="layers per image (default 4)")
    parser.add_argument("--layer-mib", type=int, default=64, help="layer size (default 64)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    add_reference_options(parser)
    args = parser.parse_args(argv)
    binary = chosen_reference(args)
    with tempfile.TemporaryDirectory(prefix="bench-mirror-image-") as work:
        best = run(args.layers, args.layer_mib * MiB, args.repeat, Path(work), binary)
    if args.json:
        print(json.dumps(best))
        return 0
    reference = f"reference: distribution {distribution_version(binary)}" if binary else ""
    print(
        f"skopeo copy of an image of {args.layers} x {args.layer_mib} MiB layers,"
        f" best of {args.repeat}; {os.cpu_count()} cores; {reference or 'no reference'}"
    )
    print(f"{'row':<10} {'MiB/s':>8} {'against':>8} {'ratio':>6} {'target':>7}")
    for row, against, target in COMPARISONS:
        if row not in best:
            continue
        ratio = best[row] / best[against] if best[against] else 0.0
        goal = "-" if target is None else f"{target:.2f}"
        print(f"{row:<10} {best[row]:>8.1f} {best[against]:>8.1f} {ratio:>6.2f} {goal:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
