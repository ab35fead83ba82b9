#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The peer program's repetitions, each one in a layout of its own.

On the development VM the same instructions placed at other addresses run up to 1.3x apart
(docs/bench/waiting-layer-ab.md, "Layouts"), so `staticrt-bench-peers --reps N` measures N
repetitions of one link's layout: a report whose ping-pong row read 1.01x the raw floor in one
build read 1.20x in the next. This runs the program N times with `--reps 1`, each time relinked
by lld with its sections shuffled by a seed of its own (bench/ab/peers_ab.py's --relink --fresh),
optionally with the queues at a drawn in-page offset (--heap-offsets), and writes one output in
the program's own format: repetitions and state lines renumbered 1..N, the program's ratio lines
recomputed over all N repetitions (median of the same-repetition ratios, as the program computes
them). bench/report.py reads it like any other run.

  bench/layouts.py BUILD/bench/staticrt-bench-peers --reps 5 [--seed 1] [--heap-offsets] \\
      -- --stall-s 30 [more peer-program args]
  bench/layouts.py --self-test      # checks the merging on made-up outputs; runs nothing

Build the program with -DCMAKE_CXX_FLAGS="-ffunction-sections -fdata-sections" so that every
function moves on its own (LAYOUTS=1 bench/run_peers.sh does that in build/bench-fs).
"""
import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "ab"))
from report import report_checks  # noqa: E402  (bench/report.py, beside this file)

VALUE = re.compile(r"^(\S+) (\S+) (\S+) (\S+)$")
HEADER = re.compile(r"^# staticrt-bench-peers: (\d+) measurements x (\d+) reps(.*)$")
RATIO_HEAD = "# ratio <workload> <staticrt-lib> <peer> <median staticrt/peer> <reps> <better>"


def split_run(text):
    """One `--reps 1` output -> (header lines, body lines of its repetition, ratio pairs in order:
    [(workload, ours, peer, better)])."""
    head, body, pairs = [], [], []
    seen_rep = False
    for line in text.splitlines():
        if line.startswith("ratio "):
            p = line.split()
            if len(p) == 7:
                pairs.append((p[1], p[2], p[3], p[6]))
        elif line == RATIO_HEAD:
            continue
        elif line.startswith("rep "):
            seen_rep = True
            body.append(line)
        elif seen_rep:
            body.append(line)
        else:
            head.append(line)
    return head, body, pairs


def merge(outputs, note):
    """Outputs of single-repetition runs -> one output with len(outputs) repetitions. `note` goes
    into the program's header line (which layouts were drawn)."""
    if not outputs:
        raise ValueError("no runs to merge")
    head, _, pairs = split_run(outputs[0])
    out = []
    for line in head:
        m = HEADER.match(line)
        out.append(f"# staticrt-bench-peers: {m.group(1)} measurements x {len(outputs)} reps{m.group(3)}, {note}"
                   if m else line)
    values = []  # per repetition: {(workload, lib): float or str}
    for k, text in enumerate(outputs):
        _, body, _ = split_run(text)
        if not body:
            raise ValueError(f"run {k + 1} printed no repetition")
        rep = {}
        for line in body:
            p = line.split()
            if p[0] == "rep":
                line = f"rep {k + 1}"
            elif p[0] == "state" and len(p) >= 2:
                line = " ".join(["state", str(k + 1)] + p[2:])
            elif p[0] != "probe" and VALUE.match(line):
                try:
                    rep[(p[0], p[1])] = float(p[2])
                except ValueError:
                    rep[(p[0], p[1])] = p[2]
            out.append(line)
        values.append(rep)
    out.append(RATIO_HEAD)
    for wl, ours, peer, better in pairs:
        ratios, stalls = [], 0
        for rep in values:
            a, b = rep.get((wl, ours)), rep.get((wl, peer))
            if b == "STALL":
                stalls += 1
            if isinstance(a, float) and isinstance(b, float) and b > 0:
                ratios.append(a / b)
        if ratios:
            out.append(f"ratio {wl} {ours} {peer} {statistics.median(ratios):.3f} {len(ratios)} {better}")
        else:
            out.append(f"ratio {wl} {ours} {peer} {'STALL' if stalls else 'n/a'} 0 {better}")
    return "\n".join(out) + "\n"


def self_test():
    def run(rtt_ours, rtt_raw, state, stall=False):
        raw = "STALL" if stall else f"{rtt_raw}"
        return "\n".join([
            "# staticrt-bench-peers: 2 measurements x 1 reps, cpus 0,1 of 2, scale 1, stall 30 s",
            "# states fast_below 90 slow_from 170",
            "rep 1", "probe raw_atomic_rtt 400.0 ns",
            "row_rtt 401.5 ns", f"pingpong_rtt staticrt {rtt_ours} ns",
            "row_rtt STALL ns", f"pingpong_rtt raw_atomic {raw} ns",
            f"state 1 {state} rtt_before 400.0 rtt_after 410.0",
            RATIO_HEAD, "ratio pingpong_rtt staticrt raw_atomic 1.000 1 <1_is_better", ""])
    got = merge([run(440, 400, "slow"), run(500, 400, "mid"), run(300, 0, "slow", stall=True),
                 run(460, 400, "slow")], "a relinked layout per rep (seeds 1..4)").splitlines()
    want_head = ("# staticrt-bench-peers: 2 measurements x 4 reps, cpus 0,1 of 2, scale 1, stall 30 s, "
                 "a relinked layout per rep (seeds 1..4)")
    checks = [
        (got[0] == want_head, f"header: {got[0]!r}"),
        ([l for l in got if l.startswith("rep ")] == ["rep 1", "rep 2", "rep 3", "rep 4"], "reps renumbered"),
        ([l.split()[1:3] for l in got if l.startswith("state ")]
         == [["1", "slow"], ["2", "mid"], ["3", "slow"], ["4", "slow"]], "states renumbered, kept"),
        # ratios 1.10, 1.25, 1.15 (the stalled repetition has none): median 1.15 over 3 reps
        (got[-1] == "ratio pingpong_rtt staticrt raw_atomic 1.150 3 <1_is_better", f"ratio: {got[-1]!r}"),
        (got.count(RATIO_HEAD) == 1, "one ratio header"),
        ("pingpong_rtt raw_atomic STALL ns" in got, "a stall stays a stall"),
        (got.count("row_rtt 401.5 ns") == 4 and got.count("row_rtt STALL ns") == 4, "row probes kept"),
    ]
    all_stall = merge([run(440, 0, "slow", stall=True)], "x").splitlines()
    checks.append((all_stall[-1] == "ratio pingpong_rtt staticrt raw_atomic STALL 0 <1_is_better",
                   f"all stalled: {all_stall[-1]!r}"))
    try:
        merge(["# staticrt-bench-peers: 1 measurements x 1 reps\n"], "x")
        checks.append((False, "a run without a repetition must be refused"))
    except ValueError:
        pass
    return report_checks("layouts.py", checks)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", nargs="?")
    ap.add_argument("--reps", type=int, default=3, help="repetitions, each in a layout of its own (>= 1)")
    ap.add_argument("--seed", type=int, default=1, help="layout seeds SEED..SEED+REPS-1 (and the heap offsets)")
    ap.add_argument("--heap-offsets", action="store_true", help="queues on pages of their own at a drawn offset")
    ap.add_argument("--self-test", action="store_true", help="check the merging on made-up outputs and exit")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    a = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if a.self_test:
        return self_test()
    if not a.binary:
        ap.error("the peer program's path is required")
    if a.reps < 1:
        ap.error("--reps must be >= 1")
    if not os.access(a.binary, os.X_OK):
        ap.error(f"{a.binary}: not an executable file")
    if "--reps" in extra:
        ap.error("give --reps before the --, not to the program")
    import peers_ab  # noqa: E402  (link_command, relink, build_heap_place, heap_env)
    link = peers_ab.link_command(a.binary)
    rng = random.Random(a.seed)
    outputs = []
    with tempfile.TemporaryDirectory(prefix="layouts.") as tmp:
        preload = peers_ab.build_heap_place(tmp) if a.heap_offsets else None
        for r in range(a.reps):
            prog = os.path.join(tmp, f"peers.r{r}")
            peers_ab.relink(link, prog, a.seed + r)
            env = peers_ab.heap_env(preload, rng)
            res = subprocess.run([prog, "--reps", "1"] + extra, stdout=subprocess.PIPE, text=True, env=env,
                                 check=False)
            if res.returncode != 0:
                sys.exit(f"layouts.py: repetition {r + 1} exited {res.returncode}")
            outputs.append(res.stdout)
            state = next((l.split()[2] for l in res.stdout.splitlines() if l.startswith("state ")), "?")
            print(f"layouts.py: repetition {r + 1}/{a.reps} (layout seed {a.seed + r}): {state}",
                  file=sys.stderr, flush=True)
    heap = ", queues at a drawn in-page offset" if preload else ""
    sys.stdout.write(merge(outputs, f"a relinked layout per rep (seeds {a.seed}..{a.seed + a.reps - 1}){heap}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
