#!/usr/bin/env bash
# The README's demo command: installs what the build needs, builds the release preset, runs the
# main demo. Extra arguments go to the demo (e.g. --seconds 10 --rate 20000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash toolchain/setup-debian.sh --demo
cmake --preset release -DSTATICRT_BUILD_TESTS=OFF >/dev/null
cmake --build --preset release --target realtime_pipeline
exec ./build/release/examples/realtime_pipeline "$@"
