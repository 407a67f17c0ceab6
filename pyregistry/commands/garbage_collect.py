"""``pyregistry garbage-collect [CONFIG] [--dry-run] [--delete-untagged] [--quiet]``.

A drop-in for distribution's ``registry garbage-collect``: same config file, same flags
(``-d``/``--dry-run``, ``-m``/``--delete-untagged``, also in pflag's ``--flag=true``
form), same objects deleted on the same root. Per-object lines go to stdout, progress to
stderr, the summary last; the exit status is 1 when anything went wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from pyregistry.commands.heap import bulk_allocation
from pyregistry.config import load_config
from pyregistry.config.model import Config
from pyregistry.gc import CollectOptions, Progress, Report, collect
from pyregistry.storage.cache import BlobDescriptorCache, InMemoryBlobDescriptorCache
from storage_drivers import create_driver

DESCRIPTION = """Delete the manifests and blobs nothing references any more (offline).

Run it while the registry is stopped or in read-only mode
(storage.maintenance.readonly.enabled): a push that runs during the collection may lose
blobs it just uploaded, exactly as with distribution's command on the same root.

Marks every manifest of every repository (with --delete-untagged: only those a tag points
at, the manifests their indexes list, and referrers of kept manifests), their configs and
layers; then deletes unmarked manifest revisions, layer links to unmarked blobs and the
unmarked blobs. A manifest that cannot be read stops the run before anything is deleted.
The Redis blob descriptor cache (storage.cache.blobdescriptor: redis) forgets what was
deleted; restart a registry that uses the inmemory cache afterwards."""

_TRUE = {"1", "t", "true", "yes", "on"}
_FALSE = {"0", "f", "false", "no", "off"}


class _BoolFlag(argparse.Action):
    """A pflag-style boolean: ``-m``, ``--delete-untagged`` or ``--delete-untagged=true``.

    pflag never takes the next word as a flag's value, so a word that is not a boolean
    (``--dry-run config.yml``) is the CONFIG argument, kept aside for :func:`run`.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        value = True
        if isinstance(values, str):
            if values.lower() in _TRUE | _FALSE:
                value = values.lower() in _TRUE
            else:
                namespace.stray_config = values
        setattr(namespace, self.dest, value)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "garbage-collect",
        help="delete unreferenced manifests and blobs (registry stopped or read-only)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", nargs="?", metavar="CONFIG", help="distribution's config.yml")
    for short, long, text in (
        ("-d", "--dry-run", "list what would be deleted; change nothing"),
        ("-m", "--delete-untagged", "also delete manifests no tag reaches"),
        ("-q", "--quiet", "no per-object lines and no progress; only the summary and errors"),
    ):
        parser.add_argument(
            short, long, action=_BoolFlag, nargs="?", default=False, metavar="BOOL", help=text
        )
    parser.set_defaults(run=run, stray_config=None)


def _caches(config: Config) -> list[BlobDescriptorCache]:
    """The shared caches a running registry consults; an in-process one is not reachable."""
    from pyregistry.descriptor_cache.factory import build_blob_descriptor_cache

    cache = build_blob_descriptor_cache(config)
    if cache is None or isinstance(cache, InMemoryBlobDescriptorCache):
        return []
    return [cache]


async def _unreachable(caches: list[BlobDescriptorCache]) -> str | None:
    """Why a shared cache cannot be cleaned now (the Redis cache's own health check)."""
    for cache in caches:
        check = getattr(cache, "check", None)
        if check is None:
            continue
        try:
            await check()
        except Exception as exc:  # noqa: BLE001 - any failure of a check is its answer
            return str(exc)
    return None


async def _collect(config: Config, options: CollectOptions, quiet: bool) -> Report:
    driver = create_driver(config.storage.driver, config.storage.parameters)
    caches = _caches(config)
    progress = Progress(sys.stderr, enabled=not quiet)
    try:
        # Deleting blobs a shared cache keeps answering for is distribution #4269: with
        # the cache unreachable, delete nothing; if it goes away midway, say so.
        problem = None if options.dry_run else await _unreachable(caches)
        if problem is not None:
            report = Report(dry_run=options.dry_run)
            report.fail(f"blob descriptor cache unreachable ({problem}); nothing was deleted")
            report.finish()
            return report
        report = await collect(
            driver,
            options,
            caches=caches,
            progress=progress,
            out=None if quiet else sys.stdout,
        )
        problem = None if options.dry_run else await _unreachable(caches)
        if problem is not None:
            report.fail(
                f"blob descriptor cache became unreachable ({problem}): it may still list "
                "collected blobs; restart the registry after flushing its Redis database"
            )
        return report
    finally:
        for cache in caches:
            close = getattr(cache, "close", None)
            if close is not None:
                await close()
        await driver.close()


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config or args.stray_config)
    options = CollectOptions(dry_run=args.dry_run, delete_untagged=args.delete_untagged)
    with bulk_allocation():
        report = asyncio.run(_collect(config, options, args.quiet))
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    print(report.summary())
    return 0 if report.ok else 1
