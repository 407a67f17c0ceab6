"""Swift's "try again shortly" answers (a proxy whose object server was slow to accept
answers 503 under load) are retried; one that keeps coming is an error, not a hang."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage_drivers import StorageDriverError
from storage_drivers.swift import SwiftDriver, connection
from tests.client.proxy import TcpProxy
from tests.support.swift import SwiftServer, driver_parameters


@pytest.fixture
def proxy(swift_server: SwiftServer) -> Iterator[TcpProxy]:
    """A TCP proxy in front of the Swift proxy (tempauth hands out storage URLs on the
    Host the client used, so every request of the driver passes through it)."""
    front = TcpProxy(f"http://127.0.0.1:{swift_server.proxy_port}").start()
    yield front
    front.stop()


async def test_transient_answers_are_retried(
    swift_server: SwiftServer, proxy: TcpProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection, "TRANSIENT_DELAYS", (0.01, 0.05, 0.1))
    driver = SwiftDriver(**driver_parameters(swift_server, authurl=f"{proxy.url}/auth/v1.0"))
    try:
        await driver.put_content("/f", b"one")
        assert proxy.paths("PUT"), "the driver's requests bypassed the proxy"

        proxy.arm_refusal(b"HEAD /v1/", 503, times=2)  # put_content looks first
        await driver.put_content("/f", b"two")
        assert proxy.refusals_done == 2
        proxy.arm_refusal(b"GET /v1/", 502, times=3)
        assert await driver.get_content("/f") == b"two"
        assert proxy.refusals_done == 5

        proxy.arm_refusal(b"GET /v1/", 503, times=10)
        with pytest.raises(StorageDriverError, match="503"):
            await driver.get_content("/f")
        assert proxy.refusals_done == 5 + 4  # the first try and three more, then the error
    finally:
        await driver.close()
