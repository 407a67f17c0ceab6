"""Reading wrk's summary (the bench's requests-per-second rows can use wrk)."""

from __future__ import annotations

import pytest

from bench.rates import RateRequest, _lua, parse_wrk
from bench.workload import BenchFailure

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:5000/v2/bench/tags/list
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.71ms    2.10ms  31.02ms   81.20%
    Req/Sec     4.79k   412.11     5.61k    70.50%
  95312 requests in 10.01s, 1.02GB read
  Non-2xx or 3xx responses: 3
Requests/sec:   9521.68
Transfer/sec:    104.73MB
"""


def test_summary_gives_count_seconds_and_failures() -> None:
    assert parse_wrk(WRK_OUTPUT) == (95312, 10.01, 3)
    clean = WRK_OUTPUT.replace("  Non-2xx or 3xx responses: 3\n", "")
    assert parse_wrk(clean) == (95312, 10.01, 0)
    assert parse_wrk(clean.replace("in 10.01s", "in 900.00ms"))[1] == pytest.approx(0.9)
    with pytest.raises(BenchFailure):
        parse_wrk("wrk: connection refused")


def test_script_sets_method_and_headers() -> None:
    script = _lua(RateRequest("HEAD", "/v2/x/blobs/sha256:00", {"Accept": "a/b"}))
    assert script == 'wrk.method = "HEAD"\nwrk.headers["Accept"] = "a/b"\n'
