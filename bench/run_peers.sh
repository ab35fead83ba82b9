#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerates docs/bench/peers.txt, docs/bench/peers.png and docs/bench/BENCHMARKS.md: builds the bench preset, runs
# staticrt-bench-peers with REPS repetitions (default 3), then plots. Extra arguments go to
# the peer program, e.g. `bench/run_peers.sh --scale 0.5` or `REPS=7 bench/run_peers.sh`.
# Run it on a quiet machine: other processes on the cores move every figure. Every repetition is
# classified by the raw round-trip probe before and after it (fast / mid / slow / mixed; bands:
# --state-bands, docs/performance.md "Machine states"); the per-state goal table is printed at the end.
# Use enough repetitions to see the states the machine goes through (e.g. REPS=15).
# LAYOUTS=1: every repetition runs in a layout of its own (bench/layouts.py: the program relinked
# with shuffled sections, the queues at a drawn in-page offset; built in build/bench-fs with
# -ffunction-sections), so that no row is one link's draw.
# SETTLE_MS (default 300): the peer program sleeps that long before each measurement, so that no
# row runs in the wake of the one before it (docs/performance.md); SETTLE_MS=0 runs them back to back.
set -eu
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
LAYOUTS=${LAYOUTS:-0}
SETTLE_MS=${SETTLE_MS:-300}
if [ "$LAYOUTS" = 1 ]; then
  cmake --preset bench -B build/bench-fs -DCMAKE_CXX_FLAGS="-ffunction-sections -fdata-sections" >/dev/null
  cmake --build build/bench-fs --target staticrt-bench-peers -j2
  flags="-O3 -DNDEBUG -ffunction-sections -fdata-sections (CMake Release), relinked per repetition"
else
  cmake --preset bench >/dev/null
  cmake --build --preset bench --target staticrt-bench-peers
  flags="-O3 -DNDEBUG (CMake Release)"
fi
mkdir -p docs/bench
{
  echo "# date $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "# cpu $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) logical CPUs"
  echo "# compiler $(g++ --version | head -1), flags $flags"
  echo "# command bench/run_peers.sh (REPS=$REPS LAYOUTS=$LAYOUTS SETTLE_MS=$SETTLE_MS) $*"
  if [ "$LAYOUTS" = 1 ]; then
    python3 bench/layouts.py build/bench-fs/bench/staticrt-bench-peers --reps "$REPS" --heap-offsets -- --settle-ms "$SETTLE_MS" "$@"
  else
    build/bench/bench/staticrt-bench-peers --reps "$REPS" --settle-ms "$SETTLE_MS" "$@"
  fi
} | tee docs/bench/peers.txt
# matplotlib comes from Debian (toolchain/setup-debian.sh); a python3 earlier on PATH (pyenv) may lack it
plot_py=python3
python3 -c 'import matplotlib' 2>/dev/null || plot_py=/usr/bin/python3
"$plot_py" bench/plot.py peers docs/bench/peers.txt docs/bench/peers.png
python3 bench/report.py docs/bench/peers.txt docs/bench/BENCHMARKS.md --notes bench/notes.md --plot peers.png
echo "wrote docs/bench/peers.txt docs/bench/peers.png docs/bench/BENCHMARKS.md"
python3 bench/report.py docs/bench/peers.txt
