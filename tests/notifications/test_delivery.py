"""Delivery: in order, retried with distribution's threshold/backoff, isolated per endpoint,
never in the way of registry requests; counters on the debug server."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from pyregistry.config.model import DebugConfig
from pyregistry.debug.app import create_debug_app
from pyregistry.debug.health import HealthChecks
from pyregistry.notifications.delivery import Breaker
from tests.notifications.conftest import endpoint, notifying_config, push_blob, push_image, serve
from tests.notifications.receiver import Attempt, Behaviour, Receiver
from tests.support.registry_process import free_port
from tests.support.server import run_server

THRESHOLD = 3
BACKOFF = 0.3


def check_breaker(attempts: list[Attempt], threshold: int, backoff: float) -> None:
    """Once ``threshold`` attempts in a row have failed, the next one starts no sooner
    than ``backoff`` after the last (a receiver sees the failure start before the
    registry sees it end, so arrival gaps can only be longer)."""
    failures = 0
    for previous, current in zip(attempts, attempts[1:], strict=False):
        failures = 0 if previous.accepted else failures + 1
        gap = current.at - previous.at
        if failures >= threshold:
            assert gap >= backoff, f"attempt {gap:.3f}s after a failure, inside the backoff"


def test_failures_then_recovery_in_order_with_backoff(tmp_path: Path) -> None:
    fail_first = 7
    receiver = Receiver(Behaviour(fail_first=fail_first)).start()
    try:
        entry = endpoint(receiver, threshold=THRESHOLD, backoff=f"{int(BACKOFF * 1000)}ms")
        config = notifying_config(tmp_path / "data", tmp_path / "queue", [entry])
        with serve(config) as url, httpx.Client(base_url=url) as client:
            first, blobs1, _ = push_image(client, "order", "one", seed="a")
            second, blobs2, _ = push_image(client, "order", "two", seed="b")
            events = receiver.wait_count(8, timeout=30)
    finally:
        receiver.stop()

    assert [e["target"]["digest"] for e in events] == [*blobs1, first, *blobs2, second]
    attempts = receiver.snapshot()
    assert [a.status for a in attempts[:fail_first]] == [500] * fail_first
    assert all(a.accepted for a in attempts[fail_first:])
    assert len(attempts) == fail_first + 8  # nothing delivered twice once accepted
    # every failed attempt carried the first event, with the same id each time
    assert {a.events[0]["id"] for a in attempts[: fail_first + 1]} == {events[0]["id"]}
    check_breaker(attempts, THRESHOLD, BACKOFF)
    # the first THRESHOLD attempts went out back to back, then the breaker held them
    gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:], strict=False)]
    assert all(gap < BACKOFF for gap in gaps[: THRESHOLD - 1]), gaps
    assert all(gap >= BACKOFF for gap in gaps[THRESHOLD - 1 : fail_first]), gaps


def test_hanging_endpoint_does_not_stall_pushes(tmp_path: Path) -> None:
    receiver = Receiver(Behaviour(hang_first=2, hang_seconds=10)).start()
    try:
        entry = endpoint(receiver, timeout="300ms", threshold=1, backoff="100ms")
        config = notifying_config(tmp_path / "data", tmp_path / "queue", [entry])
        with serve(config) as url, httpx.Client(base_url=url, timeout=10) as client:
            push_blob(client, "warmup", b"first event, delivered into a hanging receiver")
            time.sleep(0.1)  # the delivery of that event is now hanging
            started = time.monotonic()
            digest, blobs, _ = push_image(client, "busy", "v1", layers=3)
            elapsed = time.monotonic() - started
            events = receiver.wait_count(6, timeout=20)
    finally:
        receiver.stop()
    assert elapsed < 2.0, f"pushing 5 objects took {elapsed:.2f}s behind a hanging endpoint"
    assert [e["target"]["digest"] for e in events[1:]] == [*blobs, digest]
    # the hung attempts were given up after the timeout and retried: same event again
    attempts = receiver.snapshot()
    first_id = events[0]["id"]
    assert sum(1 for a in attempts if a.events[0]["id"] == first_id) == 3


def test_dead_endpoint_does_not_hold_up_the_others(tmp_path: Path) -> None:
    live = Receiver(Behaviour()).start()
    dead_url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    try:
        entries = [
            {"name": "dead", "url": dead_url, "timeout": "1s", "threshold": 1, "backoff": "5s"},
            endpoint(live, name="live"),
        ]
        config = notifying_config(tmp_path / "data", tmp_path / "queue", entries)
        with serve(config) as url, httpx.Client(base_url=url) as client:
            started = time.monotonic()
            digest, blobs, _ = push_image(client, "iso", "v1")
            events = live.wait_count(4, timeout=5)
            delivered_in = time.monotonic() - started
    finally:
        live.stop()
    assert [e["target"]["digest"] for e in events] == [*blobs, digest]
    assert delivered_in < 3.0


def test_counters_on_debug_vars_and_metrics(tmp_path: Path) -> None:
    receiver = Receiver(Behaviour(fail_first=2, fail_status=503)).start()
    name = f"counted-{tmp_path.name}"
    dead_name = f"dead-{tmp_path.name}"
    dead_url = f"http://127.0.0.1:{free_port()}/cb"
    try:
        entries = [
            endpoint(receiver, name=name, threshold=5, headers={"Authorization": ["Bearer s3"]}),
            {"name": dead_name, "url": dead_url, "threshold": 1, "backoff": "10s"},
        ]
        config = notifying_config(tmp_path / "data", tmp_path / "queue", entries)
        debug = create_debug_app(HealthChecks(), DebugConfig(prometheus_enabled=True))
        with (
            serve(config) as url,
            run_server(debug) as debug_url,
            httpx.Client(base_url=url) as client,
        ):
            push_blob(client, "count", b"one")
            push_blob(client, "count", b"two")
            receiver.wait_count(2)
            deadline = time.monotonic() + 10
            while True:
                ours = httpx.get(f"{debug_url}/debug/vars").json()["registry"]["notifications"]
                by_name = {ep["name"]: ep for ep in ours["endpoints"]}
                if by_name[name]["Metrics"]["Pending"] == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            metrics = httpx.get(f"{debug_url}/metrics").text
    finally:
        receiver.stop()

    counted = by_name[name]
    assert counted["url"] == receiver.url
    assert counted["Headers"] == {"Authorization": ["<redacted>"]}
    assert counted["Threshold"] == 5 and counted["Timeout"] == 2_000_000_000
    assert counted["Metrics"] == {
        "Pending": 0,
        "Events": 2,
        "Successes": 2,
        "Failures": 2,
        "Errors": 0,
        "Statuses": {"503 Service Unavailable": 2, "200 OK": 2},
    }
    dead = by_name[dead_name]["Metrics"]
    assert dead["Pending"] == 2 and dead["Events"] == 2 and dead["Successes"] == 0
    assert dead["Errors"] >= 1

    assert f'registry_notifications_events_total{{endpoint="{name}",type="Successes"}} 2.0' in (
        metrics
    )
    assert f'registry_notifications_events_total{{endpoint="{name}",type="Failures"}} 2.0' in (
        metrics
    )
    assert (
        f'registry_notifications_status_total{{code="503 Service Unavailable",endpoint="{name}"}}'
        " 2.0" in metrics
    )
    assert f'registry_notifications_pending_total{{endpoint="{dead_name}"}} 2.0' in metrics
    assert f'registry_notifications_pending_total{{endpoint="{name}"}} 0.0' in metrics


def test_breaker_follows_threshold_then_backoff() -> None:
    now = [100.0]
    breaker = Breaker(threshold=2, backoff=5.0, clock=lambda: now[0])
    assert breaker.delay() == 0
    breaker.failure()
    assert breaker.delay() == 0  # one failure: below the threshold, retry at once
    breaker.failure()
    assert breaker.delay() == 5.0  # threshold reached: wait the whole backoff
    now[0] += 3.0
    assert breaker.delay() == 2.0  # counted from the end of the last failure
    now[0] += 2.0
    breaker.failure()
    assert breaker.delay() == 5.0
    breaker.success()
    assert breaker.delay() == 0


def test_concurrent_requests_lose_no_event(tmp_path: Path, receiver: Receiver) -> None:
    config = notifying_config(tmp_path / "data", tmp_path / "queue", [endpoint(receiver)])
    with serve(config) as url:

        def push(i: int) -> str:
            with httpx.Client(base_url=url) as client:
                return push_blob(client, f"c{i % 3}", f"concurrent {i}".encode())

        with ThreadPoolExecutor(8) as pool:
            digests = list(pool.map(push, range(24)))
        events = receiver.wait_count(24)
    assert sorted(e["target"]["digest"] for e in events) == sorted(digests)
    assert len({e["id"] for e in events}) == 24
