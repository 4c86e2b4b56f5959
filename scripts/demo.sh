#!/usr/bin/env bash
# The README's first command: install what is missing (pinned Bun, dependencies, python3-zmq),
# then run the whole bridge on the simulated MT5 (scripts/demo.ts). Arguments pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="${HOME}/.bun-npm/bin:${PATH}"
exec bun scripts/demo.ts "$@"
