"""``python -m bench.gc``: offline garbage collection, pyregistry against distribution.

Issue 14 asks for a root of 10,000 manifests and about 50,000 blobs, half of them garbage,
collected by ``pyregistry garbage-collect`` and by distribution's ``registry
garbage-collect`` on identical copies, on the filesystem and on the S3 test server. The
store is built once through the storage layer (:mod:`bench.gcstore`) and copied for each
collector; each collector runs as its own process on its copy, one after the other.

Per target the table gives each collector's wall time and peak resident memory (VmHWM:
state must stay proportional to the number of digests), the speed-up (distribution's
time / pyregistry's), and whether both left the same blobs, manifests and tags behind
(layer links aside: distribution 2.8 leaves dangling ones). distribution is the binary
given with ``--distribution`` (or ``$PYREGISTRY_BENCH_DISTRIBUTION``), else Debian's
2.8. Figures mean little on a loaded machine; ``--manifests 20 --blobs 110`` proves the
bench runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.gcs3 import run_s3_target
from bench.gcstore import build_store, content_files, copy_tree, listing
from bench.rss import SAMPLE_SECONDS, status_kib
from bench.servers import (
    DISTRIBUTION_ENV,
    REPO_ROOT,
    BenchSetupError,
    distribution_binary,
    distribution_version,
    filesystem_storage,
    free_port,
    registry_config,
    server_environment,
)

TARGETS = ("fs", "s3")
#: ``_collectors(work, binary, py_storage, dist_storage, flags)``: both runs.
Collectors = Callable[[Path, str, dict[str, Any], dict[str, Any], list[str]], tuple["Run", "Run"]]


@dataclass(frozen=True)
class Run:
    """One collector's run: wall seconds, peak RSS (MiB), exit status."""

    seconds: float
    peak_mib: float
    status: int


@dataclass(frozen=True)
class Row:
    target: str
    pyregistry: Run
    distribution: Run
    same_result: bool
    left_files: int


def collect(argv: list[str], log: Path, env: dict[str, str]) -> Run:
    """Run one collector to the end; its output goes to ``log``. The peak is the process's
    VmHWM, read until it exits (``ru_maxrss`` would count this process's own size, which
    a child inherits at fork)."""
    peak_kib = 0
    with open(log, "wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, env=env)
        while True:
            peak_kib = max(peak_kib, status_kib(process.pid, "VmHWM") or 0)
            if process.poll() is not None:
                break
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
    return Run(seconds, peak_kib / 1024, process.returncode)


def _write_config(path: Path, storage: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(registry_config(storage, free_port())))
    return path


def _collectors(
    work: Path,
    binary: str,
    py_storage: dict[str, Any],
    dist_storage: dict[str, Any],
    flags: list[str],
) -> tuple[Run, Run]:
    env = server_environment()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env["OTEL_TRACES_EXPORTER"] = "none"  # distribution 3.x exports traces otherwise
    py_config = _write_config(work / "pyregistry.yml", py_storage)
    dist_config = _write_config(work / "distribution.yml", dist_storage)
    py_argv = [sys.executable, "-m", "pyregistry", "garbage-collect", *flags, str(py_config)]
    dist_argv = [binary, "garbage-collect", *flags, str(dist_config)]
    # Each starts once the disk has written back what came before (the copies, the other
    # collector's removals): a file still only in the page cache is removed without
    # freeing, or discarding, disk blocks, which favoured the copy made last.
    os.sync()
    ours = collect(py_argv, work / "pyregistry-gc.log", env)
    os.sync()
    theirs = collect(dist_argv, work / "distribution-gc.log", env)
    for name, run in (("pyregistry", ours), ("distribution", theirs)):
        if run.status != 0:
            log = (work / f"{name}-gc.log").read_text(errors="replace")[-3000:]
            raise BenchSetupError(f"{name} garbage-collect exited {run.status}:\n{log}")
    return ours, theirs


def run_fs(work: Path, source: Path, binary: str, flags: list[str]) -> Row:
    ours_root, theirs_root = work / "fs-pyregistry", work / "fs-distribution"
    copy_tree(source, ours_root)
    copy_tree(source, theirs_root)
    ours, theirs = _collectors(
        work, binary, filesystem_storage(ours_root), filesystem_storage(theirs_root), flags
    )
    left_ours, left_theirs = listing(ours_root / "docker"), listing(theirs_root / "docker")
    same = content_files(left_ours) == content_files(left_theirs)
    return Row("fs", ours, theirs, same, len(left_ours))


def format_rows(rows: list[Row]) -> str:
    lines = [
        "target  pyregistry   distribution   speed-up   peak RSS py / dist   same result",
    ]
    for row in rows:
        ratio = row.distribution.seconds / row.pyregistry.seconds if row.pyregistry.seconds else 0
        lines.append(
            f"{row.target:<7} {row.pyregistry.seconds:>9.1f}s {row.distribution.seconds:>13.1f}s"
            f" {ratio:>9.2f}x {row.pyregistry.peak_mib:>9.0f} / "
            f"{row.distribution.peak_mib:<6.0f}MiB"
            f"   {'yes' if row.same_result else 'NO'} ({row.left_files} files left)"
        )
    return "\n".join(lines)


@contextlib.contextmanager
def _work_dir(root_dir: str | None, keep: bool) -> Iterator[Path]:
    if keep:
        yield Path(tempfile.mkdtemp(prefix="pyregistry-bench-gc-", dir=root_dir))
        return
    with tempfile.TemporaryDirectory(prefix="pyregistry-bench-gc-", dir=root_dir) as work:
        yield Path(work)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.gc", description=__doc__.split("\n")[0])
    parser.add_argument("--manifests", type=int, default=10_000, help="manifests (10000)")
    parser.add_argument("--blobs", type=int, default=50_000, help="blobs in all (50000)")
    parser.add_argument("--targets", default="fs,s3", help="comma-separated: fs,s3")
    parser.add_argument(
        "--distribution",
        default=os.environ.get(DISTRIBUTION_ENV),
        help=f"distribution's registry binary (default: ${DISTRIBUTION_ENV}, else 2.8)",
    )
    parser.add_argument("--delete-untagged", action="store_true", help="pass -m to both")
    parser.add_argument("--s3-server", choices=("seaweedfs", "moto"), default="seaweedfs")
    parser.add_argument("--root-dir", help="where the stores go (default: the temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if not targets or set(targets) - set(TARGETS):
        print(f"error: targets are {','.join(TARGETS)}", file=sys.stderr)
        return 2
    try:
        binary = distribution_binary(args.distribution)
    except BenchSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    flags = ["--delete-untagged"] if args.delete_untagged else []
    rows: list[Row] = []
    with _work_dir(args.root_dir, args.keep) as work:
        started = time.perf_counter()
        shape = asyncio.run(build_store(work / "source", args.manifests, args.blobs))
        print(
            f"store: {shape.manifests} manifests ({shape.garbage_manifests} garbage), "
            f"{shape.blobs} blobs ({shape.garbage_blobs} garbage), {shape.files} files; "
            f"built in {time.perf_counter() - started:.0f}s",
            flush=True,
        )
        try:
            for target in targets:
                if target == "fs":
                    rows.append(run_fs(work, work / "source", binary, flags))
                else:
                    rows.append(
                        run_s3_target(
                            work, work / "source", binary, flags, args.s3_server, _collectors
                        )
                    )
        except BenchSetupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if args.keep:
            print(f"work directory kept: {work}", file=sys.stderr)
    print(f"distribution {distribution_version(binary)} ({binary}); {os.cpu_count()} cores")
    print(format_rows(rows))
    if args.json:
        document = {"store": asdict(shape), "rows": [asdict(row) for row in rows]}
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0 if all(row.same_result for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
