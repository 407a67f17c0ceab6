#!/usr/bin/env python3
"""Write the tiny OCI image layout the README's pytest example preloads
(``examples/images/demo-layout``, tag ``latest``): one small random layer with a fixed seed,
so running this again gives the same bytes and digests. tests/docs checks the shipped copy
against a fresh one.

Usage: scripts/make_example_layout.py [DIRECTORY]
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from pyregistry.client.content import build_image
from pyregistry.client.media import OCI_MANIFEST

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "examples" / "images" / "demo-layout"
SEED = "pyregistry-demo-layout"


def write_layout(directory: Path) -> Path:
    """Replace ``directory`` with the layout: ``oci-layout``, ``index.json``, ``blobs/``."""
    image = build_image(layers=1, layer_size=256, seed=SEED)
    shutil.rmtree(directory, ignore_errors=True)
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for digest, content in {image.digest: image.manifest, **image.blobs()}.items():
        (blobs / digest.split(":", 1)[1]).write_bytes(content)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": image.digest,
                "size": len(image.manifest),
                "annotations": {"org.opencontainers.image.ref.name": "latest"},
            }
        ],
    }
    (directory / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}\n')
    return directory


if __name__ == "__main__":
    target = write_layout(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
    print(f"wrote {target}")
