#!/usr/bin/env bash
# Make a Wine prefix ready to run agent-gtw.exe (deploy.md §2.2–§2.4): build the stub
# bcryptprimitives.dll that Wine 8 lacks, create the prefix when missing, copy the stub into it
# and start one persistent wineserver (every wine call is faster; stop it with `wineserver -k`).
# Used by scripts/wine/smoke.sh and `bun run bench --wine`.
#
#   WINEPREFIX=... scripts/wine/prepare.sh WORK_DIR      (logs and the built DLL go to WORK_DIR)
#
# Needs wine and the mingw cross compiler (x86_64-w64-mingw32-gcc) on PATH; exits 1 naming the
# step that failed.
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ] || [ -z "${1:-}" ]; then
  echo "Usage: WINEPREFIX=DIR scripts/wine/prepare.sh WORK_DIR"
  echo
  echo "Prepares a Wine prefix for agent-gtw.exe: the stub bcryptprimitives.dll, the prefix, and a"
  echo "persistent wineserver (stop it with wineserver -k)."
  [ -n "${1:-}" ] && exit 0
  exit 2
fi
cd "$(dirname "$0")/../.."
work="$1"
: "${WINEPREFIX:?set WINEPREFIX}"
export WINEDEBUG="${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"

failed() {
  echo "wine prepare: $1" >&2
  exit 1
}

# The stub DLL: Bun's runtime imports bcryptprimitives!ProcessPrng, missing in Wine 8 (§2.2)
if ! x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -shared -s -o "${work}/bcryptprimitives.dll" \
  scripts/wine/bcryptprimitives.c scripts/wine/bcryptprimitives.def -ladvapi32 \
  >"${work}/mingw.log" 2>&1; then
  cat "${work}/mingw.log" >&2
  failed "building bcryptprimitives.dll"
fi

# The prefix (kept between runs; about 5 s to create) with the stub in system32
if [ ! -f "${WINEPREFIX}/system.reg" ]; then
  mkdir -p "${WINEPREFIX}"
  echo "wine prepare: creating the Wine prefix ${WINEPREFIX}"
  timeout 120 wineboot --init >"${work}/wineboot.log" 2>&1 || failed "wineboot --init"
fi
cp "${work}/bcryptprimitives.dll" "${WINEPREFIX}/drive_c/windows/system32/bcryptprimitives.dll"
# First let wineboot's server finish writing the registry and exit; a stale persistent one from
# an interrupted run never exits by itself, so it is killed.
timeout 30 wineserver -w >/dev/null 2>&1 </dev/null || timeout 20 wineserver -k >/dev/null 2>&1 || true
wineserver -p >/dev/null 2>&1 </dev/null || failed "wineserver -p"
