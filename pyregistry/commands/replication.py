"""``pyregistry replication run POLICY [CONFIG]`` and ``pyregistry replication status
[CONFIG]``: run one policy's full sync now (compare, copy what is missing, deletes), or
show per policy what waits in its queue and what its last executions did.

Both work beside a serving registry on the same storage: records and queues live there.
Content a pull copies in is queued for this registry's push policies like any push, so
the serving instance passes it on.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import sys
from typing import Any

from pyregistry.app import build_registry
from pyregistry.config import load_config
from pyregistry.notifications.listener import NotifyingNamespace
from pyregistry.replication.service import ReplicationService


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replication",
        help="run a replication policy now, or show replication status",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run_parser = actions.add_parser("run", help="run one policy's full sync now")
    run_parser.add_argument("policy", metavar="POLICY")
    run_parser.add_argument("config", nargs="?", metavar="CONFIG", help="config.yml")
    status_parser = actions.add_parser("status", help="pending changes and last executions")
    status_parser.add_argument("config", nargs="?", metavar="CONFIG", help="config.yml")
    status_parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


async def _main(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if not config.replication.policies:
        print(
            "pyregistry replication: no policies configured (replication.policies)", file=sys.stderr
        )
        return 2
    registry = build_registry(config)
    service = ReplicationService(
        config.replication, registry, registry.driver, source=config.source
    )
    service.attach(NotifyingNamespace(registry, service.sink))
    try:
        if args.action == "run":
            try:
                service.policy(args.policy)
            except KeyError:
                print(f"pyregistry replication: no policy named {args.policy!r}", file=sys.stderr)
                return 2
            execution = await service.run(args.policy)
            seconds = round((execution.ended or execution.started) - execution.started, 3)
            print(json.dumps({"status": execution.status, "seconds": seconds, **execution.tally}))
            return 0 if execution.status == "succeeded" else 1
        status = await service.status()
        print(json.dumps(status, indent=2) if args.json else _text(status))
        return 0
    finally:
        await service.aclose()
        await registry.close()


def _when(stamp: float | None) -> str:
    if not stamp:
        return "-"
    moment = datetime.datetime.fromtimestamp(stamp, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(status: dict[str, Any]) -> str:
    lines = [f"registry id: {status['id'] or '-'}"]
    for name, policy in status["policies"].items():
        lines.append(
            f"{name}: {policy['direction']} {policy['target']} ({policy['url']}), "
            f"{policy['pending']} pending, lag {policy['lag_seconds']:g}s"
        )
        for execution in policy["executions"][:5]:
            tally = execution.get("tally") or {}
            lines.append(
                f"  {execution['id']} {execution['trigger']:<8} {execution['status']:<9} "
                f"{_when(execution.get('started'))} .. {_when(execution.get('ended'))} "
                f"copied {tally.get('copied', 0)} ({tally.get('copied_bytes', 0)} B), "
                f"skipped {tally.get('skipped', 0)}, deleted {tally.get('deleted', 0)}, "
                f"failed {tally.get('failed', 0)}"
                + (f", last error: {tally['last_error']}" if tally.get("last_error") else "")
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_main(args))
