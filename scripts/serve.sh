#!/usr/bin/env bash
# Start pyregistry with sensible defaults: filesystem storage under ./registry-data,
# 127.0.0.1:5000, deletes enabled. Any arguments go to `pyregistry serve` (e.g. a config.yml).
#
# The first start builds .venv from this checkout (about 15 s) and says so; a later start
# installs again when pyproject.toml changed since (its hash is kept in .venv), so new
# dependencies arrive without deleting .venv by hand.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP="$VENV/.pyregistry-pyproject.sha256"

say() { printf 'serve.sh: %s\n' "$*" >&2; }

if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  say "installing python3-venv (apt-get)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends python3-venv
fi
if [ ! -x "$VENV/bin/python" ]; then
  say "first start: creating the virtualenv $VENV (about 15 s, once)"
  "$PYTHON" -m venv "$VENV"
fi
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x "$VENV/bin/pyregistry" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$wanted" ]; then
  if [ -x "$VENV/bin/pyregistry" ]; then
    say "pyproject.toml changed since the last install: installing again into $VENV"
  else
    say "installing pyregistry and its dependencies into $VENV"
  fi
  # the distribution was called "pyregistry" before it became pyregistry-oci
  if "$VENV/bin/pip" show -q pyregistry >/dev/null 2>&1; then
    "$VENV/bin/pip" uninstall -y -q pyregistry >/dev/null
    rm -rf pyregistry.egg-info
  fi
  "$VENV/bin/pip" install -q -e .
  echo "$wanted" >"$STAMP"
  say "installed; starting the registry"
fi
exec "$VENV/bin/pyregistry" serve "$@"
