"""``python -m bench``: the same workload against pyregistry and distribution.

distribution is the binary given with ``--distribution`` (or
``$PYREGISTRY_BENCH_DISTRIBUTION``; the anchor is 3.1.1), else Debian's 2.8. Targets run
one after another (never at once: they would fight over the cores), each on a fresh
storage root; with ``--repeat`` the rounds interleave the targets and the table prints
each row's median round and the pyregistry/distribution ratios of the medians.
``--memory`` instead streams a 2 GiB blob through each target and reports the
server's peak RSS against the 150 MiB target. Exit status 1 when a target failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.memory import RSS_TARGET_MIB, format_memory, measure_memory
from bench.rates import WRK_ENV
from bench.report import figures_json, format_table, write_json
from bench.rows import FULL, QUICK, ROW_KEYS, Params, row_labels, run_rows, size_label
from bench.servers import DISTRIBUTION_ENV, BenchSetupError, distribution_version
from bench.servers import distribution_binary as find_distribution
from bench.startup import run_startup
from bench.targets import S3Pool, describe, parse_targets, start_target
from bench.workload import RUN_ERRORS, Figure
from pyregistry.client.sources import MIB

_UNITS = {"": MIB, "k": 1024, "m": MIB, "g": 1024 * MIB}


def parse_size(text: str) -> int:
    """``1GiB``, ``512M``, ``64`` (MiB) -> bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:i?[bB])?\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1GiB, 256M, 64)")
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if size <= 0:
        raise argparse.ArgumentTypeError("size must be positive")
    return size


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark pyregistry against distribution on 127.0.0.1.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to prove it runs")
    parser.add_argument("--memory", action="store_true", help="2 GiB streaming RSS check")
    parser.add_argument(
        "--startup", action="store_true", help="embedded registry start-up time (0.5 s target)"
    )
    parser.add_argument(
        "--targets",
        help="comma-separated: fs,dist,s3,dist-s3 (default: all four; --memory: fs,dist)",
    )
    parser.add_argument("--size", type=parse_size, help="big blob size (default 1 GiB)")
    parser.add_argument("--chunk-size", type=parse_size, help="PATCH size (default 16 MiB)")
    parser.add_argument("--connections", type=int, help="manifest GET connections (64)")
    parser.add_argument("--duration", type=float, help="manifest GET seconds (10)")
    parser.add_argument("--images", type=int, help="small images pushed (200)")
    parser.add_argument("--image-workers", type=int, help="concurrent image pushers (16)")
    parser.add_argument(
        "--workers",
        type=int,
        help="pyregistry worker processes (default: pyregistry's own, one per core)",
    )
    parser.add_argument(
        "--distribution",
        default=os.environ.get(DISTRIBUTION_ENV),
        help=f"distribution's registry binary (default: ${DISTRIBUTION_ENV}, "
        "else Debian's docker-registry 2.8)",
    )
    parser.add_argument(
        "--wrk",
        default=os.environ.get(WRK_ENV),
        help=f"wrk binary for the requests-per-second rows (default: ${WRK_ENV}, "
        "else a Python client)",
    )
    parser.add_argument(
        "--s3-server", choices=("seaweedfs", "moto"), default="seaweedfs", help="for s3 targets"
    )
    parser.add_argument("--rows", help=f"comma-separated subset of {','.join(ROW_KEYS)}")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds (targets interleaved); median reported"
    )
    parser.add_argument("--root-dir", help="where storage roots go (default: the system temp dir)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser


def params_from(args: argparse.Namespace) -> Params:
    base = QUICK if args.quick else FULL
    overrides: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("size", "chunk_size", "connections", "duration", "images", "image_workers")
        if getattr(args, name) is not None
    }
    if args.rows:
        rows = tuple(row.strip() for row in args.rows.split(",") if row.strip())
        unknown = sorted(set(rows) - set(ROW_KEYS))
        if unknown or not rows:
            raise BenchSetupError(f"unknown rows {unknown}: choose from {','.join(ROW_KEYS)}")
        overrides["rows"] = tuple(row for row in ROW_KEYS if row in rows)
    return dataclasses.replace(base, **overrides)


def _distribution_version(args: argparse.Namespace, targets: list[str]) -> str:
    if not any(target.startswith("dist") for target in targets):
        return "-"
    try:
        return distribution_version(find_distribution(args.distribution))
    except BenchSetupError:
        return "(missing)"


def _header(args: argparse.Namespace, targets: list[str]) -> str:
    version = _distribution_version(args, targets)
    described = "; ".join(f"{t} = {describe(t, version)}" for t in targets)
    workers = args.workers or "default (one per core)"
    return (
        f"pyregistry bench: {os.cpu_count()} cores, pyregistry workers {workers}, "
        f"load for req/s rows: {'wrk' if args.wrk else 'Python client'}, "
        f"S3 server {args.s3_server if any('s3' in t for t in targets) else '-'}\n{described}"
    )


def median_figure(rounds: list[Figure]) -> Figure:
    """The median round by value (the lower middle one when the count is even)."""
    ordered = sorted(rounds, key=lambda figure: figure.value)
    return ordered[(len(ordered) - 1) // 2]


def run_table(args: argparse.Namespace, targets: list[str], params: Params) -> int:
    """``--repeat`` rounds, targets interleaved; each row reports its median round."""
    rounds: dict[str, dict[str, list[Figure]]] = {}
    errors: dict[str, str] = {}
    print(_header(args, targets), flush=True)
    with contextlib.ExitStack() as stack:
        s3 = S3Pool(stack, args.s3_server)
        for round_number in range(1, args.repeat + 1):
            for target in targets:
                started = time.monotonic()
                error = _run_target(args, target, params, s3, rounds.setdefault(target, {}))
                if error:
                    errors[target] = error
                state = "failed" if error else "done"
                took = time.monotonic() - started
                print(
                    f"  round {round_number}: {target} {state} in {took:.0f}s",
                    file=sys.stderr,
                    flush=True,
                )
    results = {
        target: {row: median_figure(figures) for row, figures in rows.items()}
        for target, rows in rounds.items()
    }
    labels = row_labels(params)
    print()
    if args.repeat > 1:
        print(f"medians of {args.repeat} rounds")
    print(format_table(labels, targets, results, errors))
    print("\nserver CPU per unit (all its processes; lower is better):")
    print(format_table(labels, targets, results, errors, cpu=True))
    for target, message in errors.items():
        print(f"\n{target} failed: {message}")
    if args.json:
        document = {
            "params": dataclasses.asdict(params),
            "workers": args.workers,
            "repeat": args.repeat,
            "labels": labels,
            "results": figures_json(results),
            "rounds": {
                target: {row: [f.value for f in figures] for row, figures in rows.items()}
                for target, rows in rounds.items()
            },
            "distribution": _distribution_version(args, targets),
            "errors": errors,
        }
        write_json(args.json, document)
    return 1 if errors else 0


def _run_target(
    args: argparse.Namespace,
    target: str,
    params: Params,
    s3: S3Pool,
    rounds: dict[str, list[Figure]],
) -> str | None:
    """One round on a fresh ``target``; adds its figures to ``rounds``; an error or None."""
    with tempfile.TemporaryDirectory(
        prefix=f"pyregistry-bench-{target}-", dir=args.root_dir
    ) as work:
        try:
            with start_target(
                target,
                Path(work),
                workers=args.workers,
                s3=s3.get,
                distribution=args.distribution,
            ) as registry:
                try:
                    figures = asyncio.run(
                        run_rows(registry.url, params, server_pid=registry.pid, wrk=args.wrk)
                    )
                except RUN_ERRORS as exc:
                    return f"{type(exc).__name__}: {exc}\n--- log ---\n{registry.log_tail()}"
        except BenchSetupError as exc:
            return f"setup: {exc}"
    for row, figure in figures.items():
        rounds.setdefault(row, []).append(figure)
    return None


def run_memory(args: argparse.Namespace, targets: list[str]) -> int:
    size = args.size or (8 * MIB if args.quick else 2048 * MIB)
    chunk_size = args.chunk_size or 16 * MIB
    print(_header(args, targets), flush=True)
    print(f"streaming {size_label(size)} per transfer; RSS target < {RSS_TARGET_MIB:.0f} MiB")
    status = 0
    document: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        s3 = S3Pool(stack, args.s3_server)
        for target in targets:
            with tempfile.TemporaryDirectory(
                prefix=f"pyregistry-bench-{target}-", dir=args.root_dir
            ) as work:
                try:
                    with start_target(
                        target,
                        Path(work),
                        workers=args.workers,
                        s3=s3.get,
                        distribution=args.distribution,
                    ) as registry:
                        result = measure_memory(registry, size, chunk_size)
                except (BenchSetupError, *RUN_ERRORS) as exc:
                    print(f"{target}: error: {exc}")
                    status = 1
                    continue
            print(format_memory(target, result, size), flush=True)
            if target in ("fs", "s3") and not result.within_target:
                status = 1
            document[target] = {
                "peak_process_mib": result.rss.peak_process_mib,
                "peak_tree_mib": result.rss.peak_tree_mib,
                "peak_tree_pss_mib": result.rss.peak_tree_pss_mib,
                "idle_tree_mib": result.idle_tree_mib,
                "figures": {row: f.value for row, f in result.figures.items()},
            }
    if args.json:
        write_json(args.json, {"size": size, "workers": args.workers, "memory": document})
    return status


#: Options naming a file or directory: resolved against the caller's working directory,
#: since the servers run in a work directory of their own.
PATH_OPTIONS = ("distribution", "wrk", "root_dir", "json")


def resolve_paths(args: argparse.Namespace) -> None:
    """Make every relative path option absolute (from the cwd ``python -m bench`` was run
    in); a bare name that is no file here (``wrk``) is left for ``PATH`` to find."""
    for name in PATH_OPTIONS:
        value = getattr(args, name)
        if value is None:
            continue
        text = os.fspath(value)
        if os.sep in text or os.path.exists(text):
            resolved = os.path.abspath(text)
            setattr(args, name, Path(resolved) if isinstance(value, Path) else resolved)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    resolve_paths(args)
    if args.startup:
        return run_startup(rounds=3 if args.quick else 7)
    default = "fs,dist" if args.memory else "fs,dist,s3,dist-s3"
    try:
        targets = parse_targets(args.targets or default)
        params = params_from(args)
    except BenchSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if (args.workers is not None and args.workers < 1) or args.repeat < 1:
        print("error: --workers and --repeat must be >= 1", file=sys.stderr)
        return 2
    return run_memory(args, targets) if args.memory else run_table(args, targets, params)


if __name__ == "__main__":
    sys.exit(main())
