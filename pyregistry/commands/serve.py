"""``pyregistry serve [CONFIG]``: run the registry.

Without CONFIG (and without ``$REGISTRY_CONFIGURATION_PATH``) it serves filesystem
storage under ``./registry-data`` on 127.0.0.1:5000 with deletes enabled; ``REGISTRY_*``
variables override either way.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from pyregistry.config import ConfigError, load_config

DESCRIPTION = """Run the registry.

Without CONFIG (and without $REGISTRY_CONFIGURATION_PATH) it serves filesystem storage
under ./registry-data on 127.0.0.1:5000 with deletes enabled. REGISTRY_* environment
variables override settings either way (REGISTRY_HTTP_ADDR=127.0.0.1:6000 ...).
SIGTERM lets in-flight requests finish (http.draintimeout, 30s when unset)."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the registry",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", nargs="?", metavar="CONFIG", help="distribution's config.yml")
    parser.add_argument(
        "--workers",
        metavar="N",
        help="worker processes (default: $PYREGISTRY_WORKERS, else one per usable core)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    from pyregistry.server import resolve_workers, serve  # uvicorn only when serving

    workers = resolve_workers(args.workers)
    if config.path is None and config.storage.driver == "filesystem":
        root = config.storage.parameters.get("rootdirectory")
        if isinstance(root, str) and root:
            os.makedirs(root, exist_ok=True)
    try:
        return serve(config, workers=workers)
    except ConfigError as exc:
        if exc.source is None:
            raise ConfigError(exc.message, key=exc.key, source=config.source) from None
        raise
