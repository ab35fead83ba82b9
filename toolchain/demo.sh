#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's demo command: installs what the build needs (cmake, ninja, g++), builds the main
# demo in its own build folder (build/demo: it never changes the presets' caches), and runs it.
# Extra arguments go to the demo, e.g. `toolchain/demo.sh --seconds 10 --rate 20000 --cpus 0,1`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash toolchain/setup-debian.sh --demo
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DSTATICRT_BUILD_TESTS=OFF -DSTATICRT_BUILD_BENCH=OFF -DSTATICRT_BUILD_EXAMPLES=ON >/dev/null
cmake --build build/demo --target realtime_pipeline -j2
exec ./build/demo/examples/realtime_pipeline "$@"
