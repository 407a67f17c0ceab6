"""``pyregistry index rebuild [CONFIG]``: recreate the metadata index from storage.

Needed after another program (distribution, a restore, a hand edit) changed storage
directly: the index only sees the registry's own writes. It can run while servers
serve: they answer from storage until it is done, and writes they make meanwhile are
recorded (see ``docs/index.md``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any

from pyregistry.config import load_config

if TYPE_CHECKING:
    from pyregistry.config.model import Config
    from pyregistry.index import IndexService

DESCRIPTION = """Recreate the metadata index from storage (progress on stderr).

Run it after another program wrote to the storage directly (distribution, a restore):
the index sees only pyregistry's own writes. Servers may keep running meanwhile."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "index",
        help="manage the metadata index",
        description="Manage the metadata index that answers _catalog and tags/list.",
    )
    actions = parser.add_subparsers(dest="index_action", required=True)
    rebuild = actions.add_parser(
        "rebuild",
        help="recreate the index from storage",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rebuild.add_argument("config", nargs="?", metavar="CONFIG", help="distribution's config.yml")
    rebuild.set_defaults(run=run_rebuild)


def run_rebuild(args: argparse.Namespace) -> int:
    from pyregistry.index import build_index, index_settings

    config = load_config(args.config)
    settings = index_settings(config)
    if not settings.enabled:
        print(f"pyregistry: the metadata index is off ({settings.reason})", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    index = build_index(config, build_in_background=False)
    assert index is not None
    print(f"index: {index.backend.location}", file=sys.stderr)
    return asyncio.run(_rebuild(config, index))


async def _rebuild(config: Config, index: IndexService) -> int:
    from pyregistry.index.progress import terminal_progress
    from pyregistry.storage import Registry
    from storage_drivers import create_driver

    driver = create_driver(config.storage.driver, config.storage.parameters)
    registry = Registry(driver, index=index)  # closing it closes the index too
    try:
        done = await index.rebuild(terminal_progress(sys.stderr), force=True)
    finally:
        await registry.close()
    return 0 if done else 1
