"""How long an embedded in-memory registry takes to start: issue 7's 0.5 s target.

Each round runs in a fresh Python process, so the figure includes importing pyregistry
(what a test suite's first ``pyregistry.serve()`` pays); a second start in the same
process (what every later fixture pays) is reported beside it.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

TARGET_SECONDS = 0.5

_PROBE = """
import json, time
t0 = time.perf_counter()
import pyregistry
with pyregistry.serve(storage="inmemory"):
    t1 = time.perf_counter()
t2 = time.perf_counter()
with pyregistry.serve(storage="inmemory"):
    t3 = time.perf_counter()
print(json.dumps({"cold": t1 - t0, "warm": t3 - t2}))
"""


def measure(rounds: int = 5) -> dict[str, float]:
    """Median cold (import + start) and warm (start only) seconds over ``rounds``."""
    cold, warm = [], []
    for _ in range(rounds):
        out = subprocess.run(
            [sys.executable, "-c", _PROBE], check=True, capture_output=True, text=True
        ).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        cold.append(figures["cold"])
        warm.append(figures["warm"])
    return {"cold": statistics.median(cold), "warm": statistics.median(warm)}


def run_startup(rounds: int) -> int:
    """Print the figures against the target; non-zero when the cold start misses it."""
    figures = measure(rounds)
    print(f"{'embedded start-up (in-memory)':40} {'seconds':>8} {'target':>8}")
    print(f"{'  first, with imports':40} {figures['cold']:8.3f} {TARGET_SECONDS:8.3f}")
    print(f"{'  later, in the same process':40} {figures['warm']:8.3f} {TARGET_SECONDS:8.3f}")
    return 0 if figures["cold"] < TARGET_SECONDS else 1
