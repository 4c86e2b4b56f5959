#!/usr/bin/env bash
# Installs what the project needs on a Debian machine that has only Node and npm:
# the pinned Bun, the project's dependencies, and the Debian packages the tests use (Python
# modules, promtool, Chromium; below). Idempotent; safe to run again.
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  echo "Usage: scripts/setup.sh"
  echo
  echo "Installs the pinned Bun (npm), the dependencies (bun install --frozen-lockfile) and the"
  echo "Debian packages the tests use (python3-zmq, python3-pandas, python3-mypy, python3-venv,"
  echo "prometheus for promtool, chromium for the dashboard's browser tests). Idempotent."
  exit 0
fi
cd "$(dirname "$0")/.."

BUN_VERSION="1.4.5"

have_bun() {
  command -v bun >/dev/null 2>&1 && [ "$(bun --version 2>/dev/null)" = "${BUN_VERSION}" ]
}

if ! have_bun; then
  echo "setup: installing bun ${BUN_VERSION} from the npm registry"
  if ! npm install -g "bun@${BUN_VERSION}" >/dev/null 2>&1; then
    # No permission for a global install: use a prefix in the home directory instead.
    npm install -g --prefix "${HOME}/.bun-npm" "bun@${BUN_VERSION}" >/dev/null
    export PATH="${HOME}/.bun-npm/bin:${PATH}"
    echo "setup: bun installed under ~/.bun-npm/bin; add it to PATH:"
    echo "  export PATH=\"\$HOME/.bun-npm/bin:\$PATH\""
  fi
fi
have_bun || { echo "setup: bun ${BUN_VERSION} is not on PATH after installing" >&2; exit 1; }

# Debian packages the tests use. Python ones with /usr/bin/python3: libzmq via pyzmq (the second
# reference peer in the interop tests); for the mt5bridge package (clients/python): pandas (its
# MetaTrader5-style example builds a DataFrame), mypy (its type check) and venv (the offline
# pip install test).
declare -A python_modules=(
  [python3-zmq]=zmq
  [python3-pandas]=pandas
  [python3-mypy]=mypy
  [python3-venv]=ensurepip
)
missing=()
for package in "${!python_modules[@]}"; do
  if ! /usr/bin/python3 -c "import ${python_modules[$package]}" >/dev/null 2>&1; then
    missing+=("${package}")
  fi
done
# promtool (Debian's prometheus package): the monitoring test checks the agents' /metrics and the
# alert rules in deploy/prometheus with it. Only the tool is used; no Prometheus server is run.
if ! command -v promtool >/dev/null 2>&1; then
  missing+=("prometheus")
fi
# chromium: the dashboard's browser tests (test/dashboard) drive Debian's Chromium headless with
# playwright-core, which never downloads a browser of its own.
if [ ! -x /usr/bin/chromium ]; then
  missing+=("chromium")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing ${missing[*]} (Debian)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]} (Debian) with sudo"
    sudo apt-get update -qq >/dev/null
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: ${missing[*]} missing and cannot be installed without root; the tests that" >&2
    echo "       use them fail until 'apt-get install ${missing[*]}' is run" >&2
  fi
fi

bun install --frozen-lockfile >/dev/null
echo "setup: ok (bun $(bun --version))"
