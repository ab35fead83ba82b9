#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs every Debian package staticrt needs that is missing; does nothing (0 s) when all are there.
#   toolchain/setup-debian.sh          # everything: host, cross compilers, emulators, peers
#   toolchain/setup-debian.sh --demo   # only what building and running the demo needs
set -euo pipefail

demo_pkgs=(cmake ninja-build g++ make)
all_pkgs=("${demo_pkgs[@]}"
  clang-14 libclang-rt-14-dev                      # clang preset, TSan, libFuzzer
  googletest libgtest-dev libgmock-dev doctest-dev libbenchmark-dev
  g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user
  g++-mingw-w64-x86-64-posix wine wine64
  binutils python3 util-linux
  python3-matplotlib doxygen pkg-config             # bench/plot.py; the `docs` target; the pkg-config consumer test
  # peers for bench/staticrt-bench-peers
  libatomic-queue-dev libboost-dev libconcurrentqueue-dev libreaderwriterqueue-dev libxenium-dev libtbb-dev
  rt-tests                                         # cyclictest: the kernel's wake-up floor (bench rt_* rows)
  lld                                              # bench/ab --relink, LAYOUTS=1 bench/run_peers.sh: shuffled layouts
  relacy-dev                                       # tests/relacy: the weak-memory model checker
  ccache                                           # test-all.sh: a second run recompiles only what changed
)

pkgs=("${all_pkgs[@]}")
[[ "${1:-}" == "--demo" ]] && pkgs=("${demo_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[[ "$(id -u)" != 0 ]] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
