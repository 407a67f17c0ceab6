"""``pyregistry retention [CONFIG] [--dry-run]``: apply ``storage.maintenance.retention``.

Prints per repository what goes and why; ``--dry-run`` changes nothing. Untagged
manifests and blobs are reclaimed by garbage collection afterwards. Safe beside a
serving registry: each removal is checked again right before it happens.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from pyregistry.app import build_registry
from pyregistry.config import load_config
from pyregistry.retention.apply import RetentionResult, run_retention
from pyregistry.retention.policy import retention_settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "retention",
        help="apply the retention policies (storage.maintenance.retention)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("config", nargs="?", metavar="CONFIG", help="distribution's config.yml")
    parser.add_argument("-d", "--dry-run", action="store_true", help="show what would go")
    parser.set_defaults(run=run)


async def _run(args: argparse.Namespace) -> RetentionResult | str:
    config = load_config(args.config)
    settings = retention_settings(config)
    if not settings.policies:
        return "no retention policies configured (storage.maintenance.retention.policies)"
    if not args.dry_run and not config.storage.delete_enabled:
        return "retention deletes: set storage.delete.enabled: true (or use --dry-run)"
    registry = build_registry(config)
    try:
        return await run_retention(registry, settings, dry_run=args.dry_run, say=print)
    finally:
        await registry.close()


def run(args: argparse.Namespace) -> int:
    result = asyncio.run(_run(args))
    if isinstance(result, str):
        print(f"pyregistry retention: {result}", file=sys.stderr)
        return 2
    for error in result.errors:
        print(f"error: {error}", file=sys.stderr)
    if args.dry_run:
        tags = sum(len(p.tags) for p in result.plans)
        manifests = sum(len(p.manifests) for p in result.plans)
        print(f"dry run: {tags} tags and {manifests} manifests would go; nothing was changed")
    else:
        print(
            f"{result.tags_removed} tags removed, {result.manifests_deleted} manifests deleted"
            + (f", {result.skipped} left (pushed again meanwhile)" if result.skipped else "")
        )
    return 1 if result.errors else 0
