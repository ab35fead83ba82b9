#!/bin/sh
# SPDX-License-Identifier: MIT
# A/B a change to the queue headers: builds staticrt-queue-ab twice, from the committed headers and
# with VARIANT (a directory holding staticrt/queue/... variants) first on the include path, then
# runs both, interleaved. Needs a configured release tree (build/release, for the platform library).
#   bench/ab/queue_ab.sh /tmp/variant/include spsc 21
set -eu
cd "$(dirname "$0")/../.."
variant=$1; shift
cmake --build --preset release --target staticrt_platform >/dev/null
flags="-std=c++20 -O3 -DNDEBUG -pthread -Iruntime/include -Iplatform/include"
out=$(mktemp -d)
g++ $flags bench/ab/queue_ab.cpp build/release/libstaticrt_platform.a -o "$out/a"
g++ -I"$variant" $flags bench/ab/queue_ab.cpp build/release/libstaticrt_platform.a -o "$out/b"
for i in 1 2; do
  echo "== committed"; "$out/a" "$@" | tail -1
  echo "== variant";   "$out/b" "$@" | tail -1
done
rm -rf "$out"
