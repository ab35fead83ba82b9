#!/bin/sh
# SPDX-License-Identifier: MIT
# Starts (or stops) wine's server and services for the test run, with their stdio on /dev/null.
# Trap it avoids: services started by the first test inherit ctest's output pipe, and ctest
# then hangs after the test passed. Usage: WINEPREFIX=... wine-prepare.sh start|stop
set -eu
: "${WINEPREFIX:?set WINEPREFIX}"
export WINEPREFIX WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml,winemenubuilder.exe=d"
unset DISPLAY || true
case "${1:-start}" in
  start)
    mkdir -p "$WINEPREFIX"
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
      wineboot --init </dev/null >/dev/null 2>&1
    fi
    # A server left lingering (-p) by an earlier run that never reached "stop" would make -w
    # wait out its whole linger time and the fixture time out: end it first.
    wineserver -k </dev/null >/dev/null 2>&1 || true
    wineserver -w </dev/null >/dev/null 2>&1 || true
    wineserver -p 600 </dev/null >/dev/null 2>&1
    wine cmd /c exit </dev/null >/dev/null 2>&1
    echo "wine ready in $WINEPREFIX"
    ;;
  stop)
    wineserver -k </dev/null >/dev/null 2>&1 || true
    echo "wine stopped"
    ;;
esac
