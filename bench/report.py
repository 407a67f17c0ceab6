"""Printing results: one column per target, then each pyregistry/distribution ratio.

Throughput figures are "higher is better", so a ratio >= 1.0 means pyregistry keeps up.
The CPU table shows what each row cost the server's processes per MiB, request or image
("lower is better": there a ratio <= 1.0 means pyregistry is as frugal). CPU time is the
steadier figure when something else shares the machine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.workload import Figure

#: (pyregistry target, distribution target) pairs whose ratio is printed.
RATIO_PAIRS = (("fs", "dist"), ("s3", "dist-s3"))


CPU_UNITS = {"MiB/s": "ms/MiB", "req/s": "ms/req", "images/s": "ms/image"}


def _metric(figure: Figure, cpu: bool) -> float:
    return figure.cpu_per_unit_ms if cpu else figure.value


def ratio(
    results: Mapping[str, Mapping[str, Figure]],
    row: str,
    mine: str,
    theirs: str,
    cpu: bool = False,
) -> float | None:
    ours, ref = results.get(mine, {}).get(row), results.get(theirs, {}).get(row)
    if ours is None or ref is None or _metric(ref, cpu) <= 0:
        return None
    return _metric(ours, cpu) / _metric(ref, cpu)


def _cell(figure: Figure | None, cpu: bool) -> str:
    if figure is None:
        return "-"
    value = _metric(figure, cpu)
    if value < 10:
        return f"{value:,.2f}"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def format_table(
    labels: Mapping[str, str],
    targets: Sequence[str],
    results: Mapping[str, Mapping[str, Figure]],
    errors: Mapping[str, str],
    *,
    cpu: bool = False,
) -> str:
    """The figures table, or with ``cpu`` the server-CPU-per-unit table."""
    pairs = [(a, b) for a, b in RATIO_PAIRS if a in targets and b in targets]
    header = ["row", "unit", *targets, *(f"{a}/{b}" for a, b in pairs)]
    lines = [header]
    for row, label in labels.items():
        unit = next((r[row].unit for r in results.values() if row in r), "")
        cells = [label, CPU_UNITS.get(unit, unit) if cpu else unit]
        for target in targets:
            figure = results.get(target, {}).get(row)
            cells.append("error" if target in errors and figure is None else _cell(figure, cpu))
        for mine, theirs in pairs:
            value = ratio(results, row, mine, theirs, cpu)
            cells.append("-" if value is None else f"{value:.2f}")
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        first = line[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)]
        out.append("  ".join([first, *rest]))
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def figures_json(results: Mapping[str, Mapping[str, Figure]]) -> dict[str, Any]:
    return {
        target: {
            row: {
                "value": f.value,
                "unit": f.unit,
                "seconds": f.seconds,
                "amount": f.amount,
                "server_cpu": f.server_cpu,
            }
            for row, f in rows.items()
        }
        for target, rows in results.items()
    }


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
