"""``pyregistry du [CONFIG] [--json]``: storage used per repository, per project, in all.

Reads the store the config names (any driver) and changes nothing, so it may run beside
a serving registry. A blob several repositories link counts once in a project's and in
the registry's size; the sums of repository sizes are shown beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any

from pyregistry.commands.heap import bulk_allocation
from pyregistry.config import load_config
from pyregistry.gc.report import format_bytes
from pyregistry.usage import Usage, measure
from storage_drivers import create_driver


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "du",
        help="storage used per repository and per project",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("config", nargs="?", metavar="CONFIG", help="distribution's config.yml")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(run=run)


async def _measure(config_path: str | None) -> Usage:
    config = load_config(config_path)
    driver = create_driver(config.storage.driver, config.storage.parameters)
    try:
        return await measure(driver)
    finally:
        await driver.close()


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def render(usage: Usage) -> str:
    lines = _table(
        [("REPOSITORY", "SIZE", "BYTES", "BLOBS")]
        + [(r.name, format_bytes(r.bytes), str(r.bytes), str(r.blobs)) for r in usage.repositories]
    )
    lines.append("")
    lines += _table(
        [("PROJECT", "SIZE", "BYTES", "SUM OF REPOSITORIES", "REPOSITORIES")]
        + [
            (p.name, format_bytes(p.bytes), str(p.bytes), str(p.linked_bytes), str(p.repositories))
            for p in usage.projects
        ]
    )
    lines += [
        "",
        f"registry: {format_bytes(usage.bytes)} ({usage.bytes} bytes), each blob once; "
        f"{format_bytes(usage.linked_bytes)} ({usage.linked_bytes} bytes) summed over "
        "repositories",
        f"stored: {format_bytes(usage.stored_bytes)}, of which "
        f"{format_bytes(usage.unreferenced_bytes)} in blobs no repository links "
        "(garbage collection frees them)",
    ]
    if usage.missing_blobs:
        lines.append(f"warning: {usage.missing_blobs} linked blobs have no data in the store")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    with bulk_allocation():
        usage = asyncio.run(_measure(args.config))
    if args.json:
        json.dump(usage.as_dict(), sys.stdout, indent=2)
        print()
    else:
        print(render(usage))
    return 0
