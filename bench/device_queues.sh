#!/bin/sh
# SPDX-License-Identifier: MIT
# One prepared call for a lent machine with 16 or more cores: the MPMC scaling rows that the
# 2-core VM cannot show (docs/performance.md, "Sixteen cores"): MpmcQueue, TicketQueue (CAS
# claim, fetch_add tickets once the CAS loses; and every call a ticket), ScqQueue (both layouts), beside
# atomic_queue's spin mode and xenium, 1p1c..16p16c on distinct cores.
#
#   bench/device_queues.sh --prepare   here: builds the peer program (bench preset) and copies it,
#                                      with the libtbb it links, into build/device/ (ignored by
#                                      git: name build/device in the device call's carry)
#   bench/device_queues.sh             there: bench/run_scaling.sh with this binary, only the
#                                      scale_mpmc rows, under CAP_S seconds of wall clock
#                                      (default 420, what finished is kept), no 2-core run;
#                                      writes $OUT/scaling.txt ($OUT defaults to /tmp/device-out)
# REPS (default 2) repetitions, LIBS to change the libraries. bench/scaling_report.py and
# bench/plot.py scaling read the output like docs/bench/scaling.txt.
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--prepare" ]; then
  cmake --preset bench >/dev/null
  cmake --build --preset bench --target staticrt-bench-peers
  mkdir -p build/device
  cp build/bench/bench/staticrt-bench-peers build/device/
  tbb=$(ldd build/device/staticrt-bench-peers | sed -n 's/^[[:space:]]*libtbb[^ ]* => \([^ ]*\).*/\1/p')
  [ -n "$tbb" ] && cp -L "$tbb" build/device/
  ls -l build/device
  exit 0
fi
LIBS=${LIBS:-staticrt,staticrt_ticket,staticrt_ticket_always,staticrt_scq,staticrt_scq_compact,atomic_queue_spin,xenium_vyukov}
[ -x build/device/staticrt-bench-peers ] ||
  { echo "device_queues.sh: build/device/staticrt-bench-peers missing: run bench/device_queues.sh --prepare here first" >&2; exit 2; }
LD_LIBRARY_PATH=build/device${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} BIN=build/device/staticrt-bench-peers \
  OUTDIR=${OUT:-/tmp/device-out} REPS=${REPS:-2} SCALING_S=${CAP_S:-420} QUEUES_S=0 \
  SCALING_ARGS="--filter scale_mpmc --libs $LIBS" exec bench/run_scaling.sh
