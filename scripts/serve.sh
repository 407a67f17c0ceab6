#!/usr/bin/env bash
# Start pyregistry with sensible defaults: filesystem storage under ./registry-data,
# 127.0.0.1:5000, deletes enabled. Any arguments go to `pyregistry serve` (e.g. a config.yml).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends python3-venv
fi
if [ ! -x .venv/bin/pyregistry ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q -e .
fi
exec .venv/bin/pyregistry serve "$@"
