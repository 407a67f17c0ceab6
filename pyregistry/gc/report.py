"""What one collection did: counts for the summary, and every warning and error it met.

The command prints :meth:`Report.summary` last and exits non-zero when ``errors`` is not
empty; a later online collector keeps the same record per run (and exports the counters).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


def format_bytes(size: int) -> str:
    """``1.5 MiB`` style: binary units, one decimal above bytes."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@dataclass
class Report:
    """Counters of one mark-and-sweep run; ``dry_run`` counts what *would* go."""

    dry_run: bool = False
    repositories: int = 0
    manifests_marked: int = 0
    blobs_marked: int = 0
    manifests_deleted: int = 0
    layer_links_deleted: int = 0
    blobs_deleted: int = 0
    bytes_freed: int = 0
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def elapsed(self) -> float:
        end = self.finished if self.finished is not None else time.monotonic()
        return end - self.started

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def fail(self, message: str) -> None:
        self.errors.append(message)

    def finish(self) -> None:
        self.finished = time.monotonic()

    def summary(self) -> str:
        verb = "would be deleted" if self.dry_run else "deleted"
        freed = "would be freed" if self.dry_run else "freed"
        lines = [
            f"{self.repositories} repositories, {self.manifests_marked} manifests and "
            f"{self.blobs_marked} blobs marked",
            f"{self.manifests_deleted} manifests, {self.layer_links_deleted} layer links and "
            f"{self.blobs_deleted} blobs {verb}; {format_bytes(self.bytes_freed)} {freed}",
            f"{len(self.warnings)} warnings, {len(self.errors)} errors, "
            f"{self.elapsed:.1f}s" + (" (dry run: nothing was changed)" if self.dry_run else ""),
        ]
        return "\n".join(lines)
