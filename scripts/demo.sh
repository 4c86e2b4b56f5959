#!/usr/bin/env bash
# The README's first command: install what is missing (pinned Bun, dependencies, python3-zmq),
# then run the whole bridge on the simulated MT5 (scripts/demo.ts). Arguments pass through.
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  echo "Usage: scripts/demo.sh [--keep] [--binaries]"
  echo
  echo "Installs what is missing (scripts/setup.sh), then runs the demo (bun run demo -- --help)."
  exit 0
fi
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="${HOME}/.bun-npm/bin:${PATH}"
exec bun scripts/demo.ts "$@"
