#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Two libraries of ONE build of the peer program, compared over shuffled layouts.

peers_ab.py compares two builds on the same rows; this compares two rows (two `--libs` names,
e.g. staticrt_ticket against staticrt) of the same build. Each round relinks the program with a
new lld `--shuffle-sections` seed and runs it once under bench/ab/heap_place.cpp with a new
in-page offset (the placements peers_ab.py's --relink --fresh --heap-offsets draw), so that the
ratio covers many layouts instead of the one a link happened to give (on the development VM one
link read 1.03 and another 0.80 for the same two queues). Prints, per workload and pair, the
median of the per-round ratios A/B with its range, per machine state (of the two rows' own row_rtt
probes when the program prints them, else of the round).

  bench/ab/rows_ab.py BUILD/bench/staticrt-bench-peers --rounds 40 --seed 100 \\
      --pairs staticrt_ticket/staticrt,staticrt_ticket_always/staticrt \\
      -- --filter mpmc_throughput --libs staticrt,staticrt_ticket,staticrt_ticket_always,raw_atomic

Build with -DCMAKE_CXX_FLAGS="-ffunction-sections -fdata-sections" (see peers_ab.py). Include
raw_atomic in --libs: its probe gives the machine state of each round.
"""
import argparse
import os
import random
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers_ab  # noqa: E402  (link_command, relink, build_heap_place, run_once)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from report import DEFAULT_BANDS, pair_band  # noqa: E402  (bench/report.py: the state of a row pair)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pairs", required=True, help="A/B,C/D: library names; ratio = A / B per round")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    a = ap.parse_args(argv[:cut])
    extra = argv[cut + 1:]  # the peer program's arguments, after "--"
    pairs = [p.split("/") for p in a.pairs.split(",")]
    link = peers_ab.link_command(a.binary)
    tmp = tempfile.mkdtemp(prefix="rows_ab.")
    preload = peers_ab.build_heap_place(tmp)
    rng = random.Random(a.seed)
    ratios = {}
    print(f"# rows_ab {a.binary} rounds {a.rounds} seed {a.seed} -- {' '.join(extra)}")
    for r in range(a.rounds):
        prog = os.path.join(tmp, f"prog.r{r}")
        peers_ab.relink(link, prog, a.seed + r)
        env = peers_ab.heap_env(preload, rng)
        values, state = peers_ab.run_once(prog, extra, env)
        os.unlink(prog)
        for wl in sorted({k[0] for k in values}):
            for x, y in pairs:
                if (wl, x) in values and (wl, y) in values and values[(wl, y)][0] > 0:
                    # the state of the two rows' own probes when the program printed them
                    rx, ry = values[(wl, x)][2], values[(wl, y)][2]
                    st = state if rx is None or ry is None else pair_band(rx, ry, DEFAULT_BANDS)
                    ratios.setdefault((wl, x, y), []).append((values[(wl, x)][0] / values[(wl, y)][0], st))
    for (wl, x, y), lst in sorted(ratios.items()):
        rs = [v for v, _ in lst]
        by_state = {}
        for v, s in lst:
            by_state.setdefault(s, []).append(v)
        per = ", ".join(f"{s} {statistics.median(v):.3f} (n={len(v)})" for s, v in sorted(by_state.items()))
        print(f"{wl} {x}/{y}: median {statistics.median(rs):.3f} (min {min(rs):.3f}, max {max(rs):.3f}, "
              f"n={len(rs)}); per state: {per}")


if __name__ == "__main__":
    main()
