"""A real OpenStack Swift all-in-one on 127.0.0.1 for the ``swift`` driver's tests.

One session-scoped server: proxy, account, container and object servers (one process
each, ``workers = 0``) plus memcached when installed, tempauth (``test:tester`` /
``testing``), 1-replica rings with one device, built with Swift's RingBuilder API in
one interpreter (``swift-ring-builder`` would take nine slow calls). Everything lives
in a temp dir: configs set ``swift_dir``, so nothing is read from or written to
``/etc/swift`` except the storage policies Swift always reads from there if present.

The servers come from a dedicated virtualenv, ``$PYREGISTRY_SWIFT_VENV`` (default
``<repo>/.venv-swift``), else from PATH; when neither has them the tests fail and say
what to install.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from storage_drivers.base import StorageDriver
from storage_drivers.swift import SwiftDriver
from storage_drivers.testsuite import DriverTarget
from tests.support.ports import free_port_block

REPO = Path(__file__).resolve().parents[2]
VENV_ENV = "PYREGISTRY_SWIFT_VENV"
INSTALL = "python3 -m venv .venv-swift && .venv-swift/bin/pip install swift python-swiftclient"
USER, KEY = "test:tester", "testing"
READY_TIMEOUT = 60.0
SERVERS = ("account", "container", "object", "proxy")

SwiftDriverFactory = Callable[..., Awaitable[SwiftDriver]]


@dataclass(frozen=True)
class SwiftServer:
    """Where the test cluster answers and how to log in to it."""

    auth_url: str
    user: str
    key: str
    storage_url: str
    proxy_port: int
    state_dir: Path
    start_seconds: float


def swift_bin_dir() -> Path:
    """The directory holding ``swift-proxy-server`` and friends, or a failed test."""
    venv = Path(os.environ.get(VENV_ENV) or REPO / ".venv-swift")
    if (venv / "bin" / "swift-proxy-server").exists():
        return venv / "bin"
    found = shutil.which("swift-proxy-server")
    if found:
        return Path(found).parent
    pytest.fail(
        f"OpenStack Swift not found in {venv}/bin (${VENV_ENV}) nor on PATH. Install it with:\n"
        f"    cd {REPO} && {INSTALL}\n"
        "(memcached, optional with Swift >= 2.35: apt-get install -y memcached)",
        pytrace=False,
    )


def _python_of(bin_dir: Path) -> str:
    """The interpreter Swift is installed into (its scripts' shebang)."""
    if (bin_dir / "python").exists():
        return str(bin_dir / "python")
    first = (bin_dir / "swift-proxy-server").read_text().splitlines()[0]
    return first.removeprefix("#!").strip().split()[-1]


def _free_ports(count: int) -> list[int]:
    """``count`` free loopback ports below the ephemeral range. Ports the kernel picked
    were in it, and one became the local end of another process's outgoing connection
    before its Swift server bound it ("Could not bind to 127.0.0.1:38729 after trying
    for 30 seconds", in a CI run): below that range the kernel hands none out."""
    first = free_port_block(count)
    return list(range(first, first + count))


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_xattrs(directory: Path) -> None:
    try:
        os.setxattr(directory, "user.swift.probe", b"1")
        os.removexattr(directory, "user.swift.probe")
    except OSError as exc:
        pytest.fail(
            f"{directory} has no user xattrs ({exc}); Swift needs ext4/xfs: "
            "point TMPDIR at a directory on such a filesystem",
            pytrace=False,
        )


def _common(port: int, state: Path, syslog_port: int) -> str:
    return f"""[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
user = {_user()}
swift_dir = {state}/etc
devices = {state}/node
mount_check = false
disable_fallocate = true
log_level = INFO
log_udp_host = 127.0.0.1
log_udp_port = {syslog_port}
"""


def _user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def _proxy_conf(memcached_port: int | None) -> str:
    cache = "cache" if memcached_port else ""
    cache_section = (
        f"[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:{memcached_port}\n"
        if memcached_port
        else ""
    )
    filters = "\n".join(
        f"[filter:{name}]\nuse = egg:swift#{name}"
        for name in ("catch_errors", "gatekeeper", "healthcheck", "proxy_logging")
        + ("listing_formats", "bulk", "tempurl", "copy", "slo", "versioned_writes", "symlink")
    )
    return f"""
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy_logging {cache} listing_formats bulk \
tempurl tempauth copy slo dlo versioned_writes symlink proxy_logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = {KEY} .admin
user_test2_tester2 = testing2 .admin
fernet_key_k1 = dGVzdC1mZXJuZXQta2V5LTAxMjM0NTY3ODkwMTIzNDU=
active_fernet_key_id = k1

[filter:dlo]
use = egg:swift#dlo
# production throttles reads after 10 segments to 1 segment/s; tests use small segments
rate_limit_after_segment = 10000

{cache_section}
{filters}
"""


_RINGS = """
import os, sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for name, port in zip(("account", "container", "object"), map(int, sys.argv[2:5])):
    b = RingBuilder(6, 1, 1)
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": port,
               "replication_ip": "127.0.0.1", "replication_port": port,
               "device": "d1", "weight": 1.0, "meta": ""})
    b.rebalance()
    b.get_ring().save(os.path.join(etc, name + ".ring.gz"))
"""


def _write_configs(state: Path, ports: dict[str, int], memcached: int | None) -> None:
    (state / "etc").mkdir()
    (state / "node" / "d1").mkdir(parents=True)
    (state / "etc" / "swift.conf").write_text(
        "[swift-hash]\nswift_hash_path_suffix = pyregistry-suffix\n"
        "swift_hash_path_prefix = pyregistry-prefix\n\n"
        "[storage-policy:0]\nname = Policy-0\ndefault = yes\n"
    )
    syslog = _free_udp_port()
    for kind in ("account", "container", "object"):
        body = (
            f"\n[pipeline:main]\npipeline = healthcheck {kind}-server\n\n"
            f"[app:{kind}-server]\nuse = egg:swift#{kind}\n\n"
            "[filter:healthcheck]\nuse = egg:swift#healthcheck\n"
        )
        conf = _common(ports[kind], state, syslog) + body
        (state / "etc" / f"{kind}-server.conf").write_text(conf)
    proxy = _common(ports["proxy"], state, syslog) + _proxy_conf(memcached)
    (state / "etc" / "proxy-server.conf").write_text(proxy)


def _ready(server: SwiftServer, ports: dict[str, int]) -> bool:
    try:
        with httpx.Client(timeout=2.0) as client:
            for port in ports.values():
                if client.get(f"http://127.0.0.1:{port}/healthcheck").status_code != 200:
                    return False
            auth = client.get(server.auth_url, headers={"X-Auth-User": USER, "X-Auth-Key": KEY})
            token = auth.headers.get("X-Auth-Token")
            if not token:
                return False
            head = client.head(server.storage_url, headers={"X-Auth-Token": token})
            return head.status_code in (200, 204)
    except httpx.HTTPError:
        return False


def _tail(state: Path) -> str:
    out = []
    for log in sorted(state.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()[-15:]
        out.append(f"--- {log.name}\n" + "\n".join(lines))
    return "\n".join(out)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 5
    for proc in processes:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def swift_server() -> Iterator[SwiftServer]:
    """Start the cluster once per session; stop it and remove its temp dir at the end."""
    started = time.monotonic()
    bin_dir = swift_bin_dir()
    state = Path(tempfile.mkdtemp(prefix="pyregistry-swift-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        (state / "probe").mkdir()
        _check_xattrs(state / "probe")
        memcached_bin = shutil.which("memcached")
        ports = dict(zip(SERVERS, _free_ports(5), strict=False))
        memcached_port = _free_ports(1)[0] if memcached_bin else None
        _write_configs(state, ports, memcached_port)
        rings = [_python_of(bin_dir), "-c", _RINGS, str(state / "etc")]
        rings += [str(ports[k]) for k in ("account", "container", "object")]
        built = subprocess.run(rings, capture_output=True, text=True, timeout=60)
        if built.returncode:
            pytest.fail(f"building Swift rings failed:\n{built.stderr}", pytrace=False)
        commands: dict[str, list[str]] = {}
        if memcached_bin and memcached_port:
            commands["memcached"] = [memcached_bin, "-l", "127.0.0.1", "-p", str(memcached_port)]
            commands["memcached"] += ["-U", "0", "-m", "64", "-u", _user()]
        for kind in SERVERS:
            conf = str(state / "etc" / f"{kind}-server.conf")
            commands[kind] = [str(bin_dir / f"swift-{kind}-server"), conf, "-v"]
        for name, command in commands.items():
            with open(state / f"{name}.log", "wb") as log:
                processes.append(
                    subprocess.Popen(
                        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                    )
                )
        base = f"http://127.0.0.1:{ports['proxy']}"
        server = SwiftServer(
            auth_url=f"{base}/auth/v1.0",
            user=USER,
            key=KEY,
            storage_url=f"{base}/v1/AUTH_test",
            proxy_port=ports["proxy"],
            state_dir=state,
            start_seconds=0.0,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while not _ready(server, ports):
            dead = [p.args for p in processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                why = f"exited: {dead}" if dead else f"not ready after {READY_TIMEOUT:.0f}s"
                hint = "" if memcached_bin else "\n(no memcached: Swift < 2.35 needs it)"
                pytest.fail(f"Swift test server {why}{hint}\n{_tail(state)}", pytrace=False)
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        yield SwiftServer(**{**server.__dict__, "start_seconds": elapsed})
    finally:
        _stop(processes)
        shutil.rmtree(state, ignore_errors=True)


def driver_parameters(server: SwiftServer, **options: Any) -> dict[str, Any]:
    """``storage.swift`` parameters for a driver on a new container of ``server``."""
    return {
        "authurl": server.auth_url,
        "username": server.user,
        "password": server.key,
        "container": f"pyregistry-{uuid.uuid4().hex[:12]}",
        "chunksize": 1 << 20,
        **options,
    }


@pytest.fixture
async def swift_driver_factory(swift_server: SwiftServer) -> AsyncIterator[SwiftDriverFactory]:
    """``await factory(**options)``: a fresh SwiftDriver on its own new container."""
    drivers: list[SwiftDriver] = []

    async def make(**options: Any) -> SwiftDriver:
        driver = SwiftDriver(**driver_parameters(swift_server, **options))
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        await driver.close()


@pytest.fixture
def swift_driver_target(swift_server: SwiftServer) -> DriverTarget:
    """The driver suite's Swift drivers: a new container each (see ``testsuite``)."""
    parameters: dict[int, dict[str, Any]] = {}

    def build(params: dict[str, Any]) -> StorageDriver:
        driver = SwiftDriver(**params)
        parameters[id(driver)] = params
        return driver

    return DriverTarget(
        make=lambda: build(driver_parameters(swift_server)),
        reopen=lambda driver: build(parameters[id(driver)]),
    )
