#!/bin/sh
# SPDX-License-Identifier: MIT
# The scaling study: how staticrt's MPMC queue, thread pool and process pool move with 1..16
# threads on distinct cores, side by side with the peers (staticrt-bench-peers --scaling), plus
# the 2-core queue comparison on cores 0,1 of the same machine. Meant for a machine with 16 or
# more cores; on 2 cores it runs, oversubscribed. Writes OUTDIR/scaling.txt and
# OUTDIR/queues2.txt (OUTDIR defaults to docs/bench); bench/scaling_report.py makes the tables.
#   bench/run_scaling.sh                      builds the bench preset, then runs
#   BIN=path/to/staticrt-bench-peers OUTDIR=/tmp/x REPS=3 bench/run_scaling.sh
# SCALING_ARGS: more arguments for the scaling run (e.g. "--filter scale_mpmc"); QUEUES_S=0 skips
# the 2-core run (bench/device_queues.sh uses both).
set -eu
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
OUTDIR=${OUTDIR:-docs/bench}
SCALING_S=${SCALING_S:-330}   # wall-clock caps of the two runs (what finished is kept)
QUEUES_S=${QUEUES_S:-120}
if [ -z "${BIN:-}" ]; then
  cmake --preset bench >/dev/null
  cmake --build --preset bench --target staticrt-bench-peers
  BIN=build/bench/bench/staticrt-bench-peers
fi
mkdir -p "$OUTDIR"
header() {
  echo "# date $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "# cpu $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) logical CPUs," \
       "$(lscpu | sed -n 's/^Thread(s) per core: *//p' | head -1) thread(s) per core"
  echo "# compiler $(grep -a -m1 -o "GCC: ([^)]*) [0-9.]*" "$BIN" || echo unknown), flags -O3 -DNDEBUG (CMake Release)"
  echo "# command bench/run_scaling.sh (REPS=$REPS) $1"
}
SCALING_ARGS=${SCALING_ARGS:-}
# shellcheck disable=SC2086  # SCALING_ARGS is a list of arguments
{ header "--scaling $SCALING_ARGS"
  timeout -s KILL "$SCALING_S" "$BIN" --scaling --reps "$REPS" --stall-s 2 $SCALING_ARGS || true; } \
  | tee "$OUTDIR/scaling.txt"
[ "$QUEUES_S" = 0 ] && exit 0
{ header "--filter throughput/pingpong --cpus 0,1"
  for f in spsc_throughput mpmc_throughput pingpong_rtt; do
    timeout -s KILL "$QUEUES_S" "$BIN" --reps "$REPS" --stall-s 2 --cpus 0,1 --filter "$f" || true
  done; } | tee "$OUTDIR/queues2.txt"
