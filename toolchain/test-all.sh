#!/usr/bin/env bash
# The README's test command (and .ci/run): installs what is missing, then configures, builds and
# tests every preset — release, clang, asan, tsan on the host; aarch64 and armhf under qemu-user;
# mingw under wine. Prints a timestamped header per stage, names each stage that failed, and ends
# with "ci: N passed, N failed". Exit status is non-zero when anything failed.
#   toolchain/test-all.sh                 # every preset
#   toolchain/test-all.sh release mingw   # just these
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
presets=("$@")
((${#presets[@]} == 0)) && presets=(release clang asan tsan aarch64 armhf mingw)

start=$(date +%s)
stage() { printf '\n==== [%s +%4ds] %s\n' "$(date -u +%H:%M:%S)" "$(( $(date +%s) - start ))" "$*"; }

stage "setup: packages"
bash toolchain/setup-debian.sh || { echo "ci: setup failed"; echo "ci: 0 passed, 1 failed"; exit 1; }

export STATICRT_WINEPREFIX="${STATICRT_WINEPREFIX:-$root/build/wineprefix}"
passed=0; failed=0; failed_stages=()
total_tests_passed=0; total_tests_failed=0

for p in "${presets[@]}"; do
  stage "$p: configure"
  if ! cmake --preset "$p" >"build-$p.configure.log" 2>&1; then
    tail -40 "build-$p.configure.log"; failed=$((failed+1)); failed_stages+=("$p:configure"); continue
  fi
  rm -f "build-$p.configure.log"
  stage "$p: build"
  if ! cmake --build --preset "$p" >"build/$p/build.log" 2>&1; then
    grep -v '^\[[0-9]*/[0-9]*\] ' "build/$p/build.log" | tail -80
    failed=$((failed+1)); failed_stages+=("$p:build"); continue
  fi
  grep -E 'warning|error' "build/$p/build.log" | head -20
  stage "$p: test"
  log="build/$p/ctest.log"
  ctest --preset "$p" 2>&1 | tee "$log" | grep -Ev '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* +Passed +[0-9.]+ sec$'
  rc=${PIPESTATUS[0]}
  # firmware_app and its std twin: text/data/bss on this target (docs/footprint.md).
  ctest --test-dir "build/$p" -R '^footprint\.firmware_app(_std)?_sizes$' -V 2>&1 | grep -o 'staticrt\.sections .*' || true
  summary=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [[ -n "$summary" ]]; then
    n_total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
    n_fail=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$summary")
    total_tests_passed=$((total_tests_passed + n_total - n_fail))
    total_tests_failed=$((total_tests_failed + n_fail))
  fi
  if [[ $rc -ne 0 ]]; then
    failed=$((failed+1)); failed_stages+=("$p:test")
  else
    passed=$((passed+1))
  fi
done

stage "summary"
echo "stages passed: $passed, stages failed: $failed ${failed_stages[*]:-}"
echo "ctest tests over all presets: $total_tests_passed passed, $total_tests_failed failed"
echo "wall time: $(( $(date +%s) - start )) s"
echo "ci: $total_tests_passed passed, $(( total_tests_failed + failed )) failed"
[[ $failed -eq 0 && $total_tests_failed -eq 0 ]]
