"""Where a documentation shell block runs: bash, in a scratch directory, with the
``pyregistry`` of the virtualenv built from the wheel, on loopback only.

What the block says is run as written except for these rewrites, so it can neither touch
the host nor collide with it:

* ``/etc/...`` and ``/var/lib/...`` point into the sandbox (``config.yml`` files name them);
* ``<any host>:5000`` becomes ``127.0.0.1:<a free port>``;
* ``pyregistry serve ...`` goes through a shim that starts the real command in the
  background with ``REGISTRY_HTTP_ADDR`` forced to that loopback port, returns once it
  answers ``/v2/`` (or fails with its output when it exits), and stops the previous one
  first; every server is stopped when the block ends.

The working directory holds ``config.yml`` (the config shown before the block, as its
test wraps it), ``layout/`` (a small OCI layout, for ``oci:./layout:latest``) and
``/etc/docker/registry/config.yml`` is the container image's own (packaging/config.yml).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.support.installed import InstalledVenv

REPO = Path(__file__).resolve().parents[2]
LAYOUT = REPO / "examples" / "images" / "demo-layout"

SHIM = """#!/usr/bin/env bash
# tests/docs: `pyregistry serve` runs in the background on the sandbox's loopback port
set -u
real={real}
if [ "${{1:-}}" != serve ]; then exec "$real" "$@"; fi
for pid in $(cat {pids} 2>/dev/null); do
  kill "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
done
: > {pids}
REGISTRY_HTTP_ADDR=127.0.0.1:{port} "$real" "$@" >>{log} 2>&1 &
pid=$!
echo "$pid" >> {pids}
for _ in $(seq 1 300); do
  if {python} -c 'import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen("http://127.0.0.1:{port}/v2/", timeout=1)
except urllib.error.HTTPError:
    pass
except OSError:
    sys.exit(1)' 2>/dev/null; then exit 0; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "pyregistry $* exited:" >&2; cat {log} >&2; exit 1
  fi
  sleep 0.1
done
echo "pyregistry $* did not answer on 127.0.0.1:{port}" >&2; cat {log} >&2; exit 1
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Sandbox:
    def __init__(self, root: Path, installed: InstalledVenv) -> None:
        self.root = root
        self.work = root / "work"
        self.port = free_port()
        self.pids = root / "serve.pids"
        self.log = root / "serve.log"
        self.installed = installed
        self.work.mkdir(parents=True)
        shutil.copytree(LAYOUT, self.work / "layout")
        image_config = root / "etc" / "docker" / "registry" / "config.yml"
        image_config.parent.mkdir(parents=True)
        image_config.write_text(self.rewrite((REPO / "packaging" / "config.yml").read_text()))
        shim = root / "bin" / "pyregistry"
        shim.parent.mkdir()
        shim.write_text(
            SHIM.format(
                real=installed.bin / "pyregistry",
                python=installed.python,
                pids=self.pids,
                log=self.log,
                port=self.port,
            )
        )
        shim.chmod(0o755)

    def rewrite(self, text: str) -> str:
        text = re.sub(r"(?<![\w.])/(etc|var/lib)/", rf"{self.root}/\1/", text)
        return re.sub(r"[\w.-]*:5000\b", f"127.0.0.1:{self.port}", text)

    def write_config(self, text: str) -> None:
        (self.work / "config.yml").write_text(self.rewrite(text))

    def run(self, script: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        env = self.installed.env()
        env = {k: v for k, v in env.items() if not k.startswith("REGISTRY_")}
        env["PATH"] = f"{self.root / 'bin'}{os.pathsep}{env['PATH']}"
        try:
            return subprocess.run(
                ["bash", "-euo", "pipefail", "-c", self.rewrite(script)],
                cwd=self.work,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
            )
        finally:
            self.stop_servers()

    def stop_servers(self) -> None:
        pids = [int(p) for p in self.pids.read_text().split()] if self.pids.exists() else []
        for pid in pids:
            _stop(pid)


def _stop(pid: int) -> None:
    """SIGTERM, then SIGKILL after 10 s; the server was started by the shim, not by us, so
    it is waited for by polling."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
