#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Same-repetition A/B of two builds of the peer program (staticrt-bench-peers).

Runs the OLD and NEW binaries alternately, one repetition each per round (order swapped every
round so neither always runs first), and prints, per measurement, the median of the per-round
ratios NEW/OLD (higher is better for rates, lower for latencies: the `better` column says which
way the ratio should go), plus the medians of each side. Rounds are grouped by the machine state
the NEW run's probe reported (fast / mid / slow / mixed), worst state first, because the VM's
state moves every figure more than most changes do.

  bench/ab/peers_ab.py OLD_BIN NEW_BIN [--rounds 11] [-- peer-program args...]
  e.g. bench/ab/peers_ab.py /tmp/old/build/bench/bench/staticrt-bench-peers \
       build/bench/bench/staticrt-bench-peers --rounds 11 -- --filter pool_dispatch --libs staticrt,staticrt_futures

Build OLD from a commit with: git archive REV | tar -x -C /tmp/old && cd /tmp/old &&
cmake --preset bench && cmake --build --preset bench --target staticrt-bench-peers

--copies K (default 8): each binary is copied K times into a temporary folder and round r runs
copy r % K of each side. One file's text sits in the same page-cache pages for as long as it
stays cached, and on the development VM a binary keeps one speed "mode" (up to 1.3x apart on the
queue rows) for minutes, then another, whatever its code (docs/bench/waiting-layer-ab.md,
"Half-ring slip, and copies of one binary"); K copies sample K placements, so an A/B of
identical code stays within a few percent of 1.00 (0.98-1.06 with K = 8, 32 rounds). An A/A
control: pass the same binary twice.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

LINE = re.compile(r"^(\S+) (\S+) ([0-9.eE+-]+) (\S+)$")
STATE = re.compile(r"^state \d+ (\S+) rtt_before")
ORDER = ["slow", "mixed", "mid", "fast"]


def run_once(binary, extra):
    out = subprocess.run([binary, "--reps", "1"] + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, check=False).stdout
    values, state = {}, "unknown"
    for line in out.split("\n"):
        m = STATE.match(line)
        if m:
            state = m.group(1)
            continue
        m = LINE.match(line)
        if m and m.group(1) not in ("probe", "rep"):
            values[(m.group(1), m.group(2))] = (float(m.group(3)), m.group(4))
    return values, state


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--copies", type=int, default=8, help="copies of each binary, used in turn (>= 1)")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    a = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if a.copies < 1:
        ap.error("--copies must be >= 1")
    with tempfile.TemporaryDirectory(prefix="peers_ab.") as tmp:
        copies = {side: [] for side in ("old", "new")}
        for side, binary in (("old", a.old), ("new", a.new)):
            if not os.access(binary, os.X_OK):
                ap.error(f"{binary}: not an executable file")
            for k in range(a.copies):
                dst = os.path.join(tmp, f"{side}{k}")
                shutil.copy2(binary, dst)  # a new file: new page-cache pages for its text
                copies[side].append(dst)
        return run_rounds(a, copies, extra)


def run_rounds(a, copies, extra):
    pairs = {}  # (workload, lib) -> state -> list of (old, new)
    units = {}
    for r in range(a.rounds):
        old, new = copies["old"][r % a.copies], copies["new"][r % a.copies]
        order = [("old", old), ("new", new)] if r % 2 == 0 else [("new", new), ("old", old)]
        got = {}
        for side, binary in order:
            got[side] = run_once(binary, extra)
            if not got[side][0]:
                sys.exit(f"{binary} printed no measurement (check the arguments: {' '.join(extra)})")
        state = got["new"][1]
        for key, (v_new, unit) in got["new"][0].items():
            if key in got["old"][0]:
                pairs.setdefault(key, {}).setdefault(state, []).append((got["old"][0][key][0], v_new))
                units[key] = unit
        print(f"round {r + 1}/{a.rounds}: state {state}", file=sys.stderr, flush=True)
    print(f"# peers_ab: {a.rounds} rounds, {a.copies} copies of each binary, args: {' '.join(extra)}")
    print("# measurement state rounds median_old median_new median(new/old) better")
    for key in sorted(pairs):
        for state in sorted(pairs[key], key=lambda s: ORDER.index(s) if s in ORDER else 9):
            p = pairs[key][state]
            unit = units[key]
            better = "lower" if unit in ("ns", "us", "s") else "higher"
            ratio = statistics.median(n / o for o, n in p if o > 0)
            print(f"{key[0]} {key[1]} {state} {len(p)} {statistics.median(o for o, _ in p):.4g} "
                  f"{statistics.median(n for _, n in p):.4g} {ratio:.3f} {better}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
