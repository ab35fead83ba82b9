#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's test command (and .ci/run): installs what is missing, then configures, builds and
# tests every preset — release, clang, asan, tsan on the host; debug (the death/trap tests of the
# host unit suite in a Debug build); aarch64 and armhf under qemu-user; mingw under wine.
#
# It prints a timestamped header per stage, build progress (every 10 %), ctest progress (every 25
# tests, and every test that did not pass), then per stage: ctest tests and doctest cases counted
# one by one as passed / failed / skipped, and every skip with its id and reason.
# Skips come from ctest (a GoogleTest GTEST_SKIP() is a skipped ctest test; its id is the test's
# name) and from the doctest target suite (tests/support/skip.hpp: "[staticrt-skip] <id>: <reason>";
# such a case counts as skipped, not passed). Each skip must be in toolchain/known-skips.txt for
# that preset, with its reason; an unexpected skip fails the stage.
# The last line is "ci: N passed, N failed, N skipped" (parsed by CI; keep its shape). Exit status
# is non-zero when anything failed; every failed stage is named above it.
#   toolchain/test-all.sh                 # every preset
#   toolchain/test-all.sh release mingw   # just these
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
presets=("$@")
((${#presets[@]} == 0)) && presets=(release clang asan tsan debug aarch64 armhf mingw)
allow_file="$root/toolchain/known-skips.txt"

start=$(date +%s)
stage() { printf '\n==== [%s +%4ds] %s\n' "$(date -u +%H:%M:%S)" "$(( $(date +%s) - start ))" "$*"; }

stage "setup: packages"
bash toolchain/setup-debian.sh || { echo "ci: setup failed"; echo "ci: 0 passed, 1 failed, 0 skipped"; exit 1; }

export STATICRT_WINEPREFIX="${STATICRT_WINEPREFIX:-$root/build/wineprefix}"

# Compiler cache: with ccache (setup-debian.sh installs it) a later run on the same machine, from
# any clone, recompiles only what changed; the first run costs a few per cent more. Paths under the
# clone are hashed relative to it (CCACHE_BASEDIR) and the build directory is left out of the key
# (CCACHE_NOHASHDIR: only -g output names it), so two clones share entries. STATICRT_CCACHE=0
# turns it off; so does a cache directory that cannot be written.
launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER= -DCMAKE_C_COMPILER_LAUNCHER=) cached=0
if [[ "${STATICRT_CCACHE:-1}" != 0 ]] && command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
  cache_dir=$(ccache -k cache_dir 2>/dev/null || true)
  if [[ -n "$cache_dir" ]] && mkdir -p "$cache_dir" 2>/dev/null && [[ -w "$cache_dir" ]]; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache) cached=1
    ccache -z >/dev/null
    echo "compiler cache: ccache, $cache_dir"
  fi
fi
failed_stages=(); stage_lines=()
all_passed=0; all_failed=0; all_skipped=0

# mawk (Debian's awk) reads a pipe in blocks: -W interactive makes the progress lines live.
live_awk() { if awk -W version 2>&1 | grep -q mawk; then awk -W interactive "$@"; else awk "$@"; fi; }

# Build output: keep the log, show one "[n/m]" line per 10 % (ninja's own progress lines).
build_progress() {
  live_awk -v p="$1" '
    /^\[[0-9]+\/[0-9]+\] / { split(substr($1, 2), a, "/"); pct = int(a[1] * 10 / a[2]);
      if (pct > last) { last = pct; printf "  %s build %3d%% %s\n", p, pct * 10, $0; fflush() } next }
    /error|warning:/ { print; fflush() }'
}

# ctest -V output: show results that are not "Passed", doctest summaries, skip lines, and one
# progress line per 25 tests.
test_progress() {
  live_awk -v p="$1" '
    /^ *[0-9]+\/[0-9]+ Test +#[0-9]+: / {
      n++; split($1, a, "/"); total = a[2]
      if ($0 !~ / Passed +[0-9.]+ sec$/) { print; bad++ }
      else if ($0 ~ /target_suite|nm_audit|consumer|taskset/) print
      if (n % 25 == 0 || n == total) printf "  %s ctest %d/%d done, %d not passed\n", p, n, total, bad
      fflush(); next }
    /^[0-9]+: \[doctest\] test cases:/ || /^[0-9]+: \[staticrt-skip\]/ { print; fflush() }'
}

# Reads a ctest -V log; prints "count <passed> <failed> <skipped> <ctest_tests> <doctest_cases>",
# then "skip <test>\t<id>\t<reason>" per skip and "fail <test>" per failed test.
analyse() {
  awk '
    function add_output(num, line) {
      if (line ~ /^\[doctest\] test cases:/) {
        s = line; gsub(/[|]/, " ", s); split(s, f, / +/)
        # "[doctest]" "test" "cases:" T P "passed" F "failed" S "skipped"
        dt_total[num] = f[4]; dt_pass[num] = f[5]; dt_fail[num] = f[7]; dt_skip[num] = f[9]; has_dt[num] = 1
      } else if (line ~ /^\[staticrt-skip\] /) {
        rest = substr(line, 17); i = index(rest, ": ")
        nsk[num]++; sk_id[num, nsk[num]] = substr(rest, 1, i - 1); sk_why[num, nsk[num]] = substr(rest, i + 2)
      } else if (want_reason[num]) {
        gt_reason[num] = line; want_reason[num] = 0
      } else if (line ~ /: Skipped$/) {
        want_reason[num] = 1
      }
    }
    /^[0-9]+: / { i = index($0, ": "); add_output(substr($0, 1, i - 1) + 0, substr($0, i + 2)); next }
    /^ *[0-9]+\/[0-9]+ Test +#[0-9]+: / {
      s = $0; sub(/^ *[0-9]+\/[0-9]+ Test +#/, "", s); num = s + 0; sub(/^[0-9]+: /, "", s)
      name = s; sub(/ .*/, "", name)
      status = "failed"
      if (s ~ / Passed +[0-9.]+ sec$/) status = "passed"
      else if (s ~ /\*\*\*Skipped/ || s ~ / Skipped +[0-9.]+ sec$/) status = "skipped"
      order[++nt] = num; tname[num] = name; tstat[num] = status; next }
    END {
      p = 0; fl = 0; sk = 0; nct = 0; ncase = 0
      for (k = 1; k <= nt; k++) {
        num = order[k]; name = tname[num]; st = tstat[num]
        if (has_dt[num]) {
          ncase += dt_total[num]
          # the "skipped" column of doctest counts the cases a --test-case filter left out: not skips.
          p += dt_pass[num] - nsk[num]; sk += nsk[num]; fl += dt_fail[num]
          for (j = 1; j <= nsk[num]; j++) out = out sprintf("skip %s\t%s\t%s\n", name, sk_id[num, j], sk_why[num, j])
          if (st != "passed") { out = out sprintf("fail %s\n", name); if (dt_fail[num] == 0) fl++ }
        } else {
          nct++
          if (st == "passed") p++
          else if (st == "skipped") { sk++; out = out sprintf("skip %s\t%s\t%s\n", name, name, gt_reason[num] == "" ? "(no reason printed)" : gt_reason[num]) }
          else { fl++; out = out sprintf("fail %s\n", name) }
        }
      }
      printf "count %d %d %d %d %d\n%s", p, fl, sk, nct, ncase, out
    }' "$1"
}

# True when <id> may be skipped under <preset> (toolchain/known-skips.txt: "presets id reason").
allowed_skip() {
  awk -v p="$1" -v id="$2" '
    /^[ \t]*(#|$)/ { next }
    { n = split($1, ps, ","); for (i = 1; i <= n; i++) if ((ps[i] == p || ps[i] == "*") && $2 == id) found = 1 }
    END { exit found ? 0 : 1 }' "$allow_file"
}

for p in "${presets[@]}"; do
  t0=$(date +%s)
  stage "$p: configure"
  if ! cmake --preset "$p" "${launcher[@]}" >"build-$p.configure.log" 2>&1; then
    tail -40 "build-$p.configure.log"; all_failed=$((all_failed+1)); failed_stages+=("$p:configure"); continue
  fi
  rm -f "build-$p.configure.log"
  stage "$p: build"
  cmake --build --preset "$p" 2>&1 | tee "build/$p/build.log" | build_progress "$p"
  if [[ ${PIPESTATUS[0]} -ne 0 ]]; then
    grep -v '^\[[0-9]*/[0-9]*\] ' "build/$p/build.log" | tail -80
    all_failed=$((all_failed+1)); failed_stages+=("$p:build"); continue
  fi
  stage "$p: test"
  log="build/$p/ctest.log"
  ctest --preset "$p" -V 2>&1 | tee "$log" | test_progress "$p"
  rc=${PIPESTATUS[0]}

  result=$(analyse "$log")
  read -r _ n_pass n_fail n_skip n_ct n_case <<<"$(head -1 <<<"$result")"
  if [[ $rc -ne 0 && $n_fail -eq 0 ]]; then n_fail=1; fi   # ctest failed without a failed test (e.g. no tests)
  unexpected=0
  stage "$p: results"
  echo "$p: $n_ct ctest tests + $n_case doctest cases: $n_pass passed, $n_fail failed, $n_skip skipped"
  while IFS=$'\t' read -r what id why; do
    case "$what" in
      fail*) echo "  FAILED ${what#fail }";;
      skip*)
        test=${what#skip }
        if allowed_skip "$p" "$id"; then echo "  skipped (known)   [$test] $id: $why"
        else echo "  skipped UNEXPECTED [$test] $id: $why  (not in toolchain/known-skips.txt for $p)"; unexpected=$((unexpected+1)); fi;;
    esac
  done < <(tail -n +2 <<<"$result")
  all_passed=$((all_passed + n_pass)); all_failed=$((all_failed + n_fail)); all_skipped=$((all_skipped + n_skip))
  if [[ $rc -ne 0 || $n_fail -ne 0 ]]; then failed_stages+=("$p:test"); fi
  if [[ $unexpected -ne 0 ]]; then failed_stages+=("$p:unexpected-skip"); all_failed=$((all_failed + unexpected)); fi
  stage_lines+=("$(printf '%-8s %4d s  %5d passed %3d failed %3d skipped' "$p" "$(( $(date +%s) - t0 ))" "$n_pass" "$n_fail" "$n_skip")")
  # firmware_app and its std twin: text/data/bss on this target (docs/footprint.md).
  ctest --test-dir "build/$p" -R '^footprint\.firmware_app(_std)?_sizes$' -V 2>&1 | grep -o 'staticrt\.sections .*' || true
done

stage "summary"
printf '%s\n' "${stage_lines[@]}"
echo "failed stages: ${failed_stages[*]:-none}"
echo "wall time: $(( $(date +%s) - start )) s"
if ((cached)); then
  ccache --print-stats 2>/dev/null | awk -F'\t' '$1 ~ /^(direct_cache_hit|preprocessed_cache_hit|cache_miss)$/ { n[$1] = $2 }
    END { printf "compiler cache: %d hits, %d misses\n", n["direct_cache_hit"] + n["preprocessed_cache_hit"], n["cache_miss"] }'
fi
echo "ci: $all_passed passed, $all_failed failed, $all_skipped skipped"
[[ ${#failed_stages[@]} -eq 0 ]]
