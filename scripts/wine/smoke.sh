#!/usr/bin/env bash
# Wine smoke test (issue 6 §4): the Windows agent-gtw.exe runs under Wine on this Linux machine
# and the Linux agent-inf talks to it over CURVE on 127.0.0.1; then agent-gtw.exe is installed,
# stopped, restarted and removed as a service through Wine's service control manager.
#
#   scripts/wine/smoke.sh            (root installs wine and mingw when missing; CI runs as root)
#
# Setup here (deploy.md §2): apt packages; the stub bcryptprimitives.dll that Wine 8 lacks
# (§2.2) and a Wine prefix (scripts/wine/prepare.sh); the binaries (built when missing;
# MLB_REBUILD=1 forces it). The checks
# run in smoke.ts. The last line is always "N passed, N failed". Everything is bounded and
# everything started is stopped: `wineserver -k` on exit. Wine output only ever goes to files
# (§2.4: a pipe would be inherited by wineserver and never close).
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  echo "Usage: scripts/wine/smoke.sh"
  echo
  echo "The Wine smoke test: agent-gtw.exe under Wine with the Linux agent-inf, then as a Windows"
  echo "service. Installs wine and mingw when run as root. MLB_REBUILD=1 rebuilds the binaries."
  exit 0
fi
cd "$(dirname "$0")/../.."

export WINEPREFIX="${MLB_WINEPREFIX:-${HOME}/.cache/mt5-live-bridge/wine-prefix}"
# Quiet, and no Mono/Gecko installer prompts in a prefix that never needs them
export WINEDEBUG="-all"
export WINEDLLOVERRIDES="mscoree,mshtml="
SMOKE_TIMEOUT_S="${MLB_SMOKE_TIMEOUT_S:-170}"

work="$(mktemp -d "${TMPDIR:-/tmp}/mlb-wine-smoke.XXXXXX")"
keep_work="${MLB_KEEP_WORK:-0}"

cleanup() {
  if command -v wineserver >/dev/null 2>&1; then
    timeout 20 wineserver -k >/dev/null 2>&1 || true
  fi
  if [ "${keep_work}" -eq 0 ]; then rm -rf "${work}"; fi
}
trap cleanup EXIT

setup_failed() {
  echo "wine smoke: setup failed: $1" >&2
  keep_work=1
  echo "0 passed, 1 failed"
  exit 1
}

# 1. Wine and the mingw cross compiler (deploy.md §2.1: about 20 s, 100 MB download)
missing=()
command -v wine >/dev/null 2>&1 || missing+=(wine wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || missing+=(gcc-mingw-w64-x86-64-win32)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    setup_failed "missing ${missing[*]}; as root: apt-get install --no-install-recommends ${missing[*]}"
  fi
  echo "wine smoke: installing ${missing[*]}"
  if ! { timeout 300 apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"; } >"${work}/apt.log" 2>&1; then
    tail -20 "${work}/apt.log" >&2
    setup_failed "apt-get install ${missing[*]} failed"
  fi
fi

# 2. The stub DLL, the prefix and a persistent wineserver (killed by cleanup())
scripts/wine/prepare.sh "${work}" || setup_failed "scripts/wine/prepare.sh (the reason is above)"

# 3. The binaries under test
if [ "${MLB_REBUILD:-0}" = "1" ] || [ ! -x dist/agent-gtw.exe ] || [ ! -x dist/agent-inf ]; then
  timeout 300 bun scripts/build.ts --only agent-gtw.exe,agent-inf >"${work}/build.log" 2>&1 || {
    cat "${work}/build.log" >&2
    setup_failed "bun scripts/build.ts"
  }
fi

# 4. The checks
status=0
timeout --kill-after=10 "${SMOKE_TIMEOUT_S}" bun scripts/wine/smoke.ts --work "${work}" || status=$?
if [ "${status}" -eq 124 ] || [ "${status}" -eq 137 ]; then
  keep_work=1
  echo "wine smoke: timed out after ${SMOKE_TIMEOUT_S} s; files kept in ${work}"
  echo "0 passed, 1 failed"
  exit 1
fi
if [ "${status}" -ne 0 ]; then keep_work=1; fi
exit "${status}"
