"""What one execution did: items and bytes copied, skipped and failed, the last error."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pyregistry.replication import metrics


@dataclass
class Tally:
    policy: str
    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0
    skipped_bytes: int = 0
    deleted: int = 0
    failed: int = 0
    last_error: str = ""
    #: push: the longest a change sent in this execution waited since it happened
    lag_seconds: float = 0.0

    def copy(self, size: int) -> None:
        self.copied += 1
        self.copied_bytes += size
        metrics.ITEMS.labels(self.policy, "copied").inc()
        metrics.BYTES.labels(self.policy, "copied").inc(size)

    def skip(self, size: int = 0) -> None:
        self.skipped += 1
        self.skipped_bytes += size
        metrics.ITEMS.labels(self.policy, "skipped").inc()
        metrics.BYTES.labels(self.policy, "skipped").inc(size)

    def delete(self) -> None:
        self.deleted += 1
        metrics.ITEMS.labels(self.policy, "deleted").inc()

    def fail(self, error: BaseException | str) -> None:
        self.failed += 1
        self.last_error = str(error)[:1000] or type(error).__name__
        metrics.ITEMS.labels(self.policy, "failed").inc()

    def waited(self, seconds: float) -> None:
        self.lag_seconds = round(max(self.lag_seconds, seconds), 3)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("policy")
        return out

    @property
    def changed(self) -> bool:
        return bool(self.copied or self.skipped or self.deleted or self.failed)
