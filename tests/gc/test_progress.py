"""Progress output: an updating line on a terminal, periodic plain lines otherwise."""

from __future__ import annotations

import io

from pyregistry.gc.progress import Progress, format_duration
from pyregistry.gc.report import Report, format_bytes


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_terminal_rewrites_one_line_with_rate_and_eta() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, interactive=True, clock=clock)
    progress.phase("sweep blobs", 100)
    for _ in range(40):
        clock.now += 0.5
        progress.advance()
    text = out.getvalue()
    assert "\n" not in text  # one line, rewritten in place
    assert text.count("\r\x1b[K") == 40
    last = text.rsplit("\r\x1b[K", 1)[1]
    assert last == "sweep blobs: 40/100 (40%), 2.0/s, ETA 30s"
    progress.interrupt()  # another line (an eligible object) gets a line of its own
    assert out.getvalue().endswith("\n")
    progress.close()
    assert out.getvalue().endswith("sweep blobs: 40/100 (40%), 2.0/s, ETA 30s\n")


def test_a_log_gets_a_line_per_interval_and_per_phase_end() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, interactive=False, interval=10.0, clock=clock)
    progress.phase("mark", 3)
    for _ in range(3):
        clock.now += 6
        progress.advance()
    progress.phase("list blobs")
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines == [
        "mark: started, 3 to do",
        "mark: 2/3 (67%), 0.2/s, ETA 6s",
        "mark: 3/3 (100%), 0.2/s",
        "list blobs: started",
        "list blobs: 0, 0.0/s",
    ]


def test_quiet_writes_nothing() -> None:
    out = io.StringIO()
    progress = Progress(out, enabled=False, interactive=True)
    progress.phase("mark", 1)
    progress.advance()
    progress.close()
    assert out.getvalue() == ""


def test_summary_and_units() -> None:
    report = Report(dry_run=False, manifests_deleted=2, blobs_deleted=3, bytes_freed=3 * 1024**2)
    report.finish()
    assert "2 manifests, 0 layer links and 3 blobs deleted; 3.0 MiB freed" in report.summary()
    assert format_bytes(512) == "512 B"
    assert format_duration(3725) == "1h02m"
    assert format_duration(65) == "1m05s"
