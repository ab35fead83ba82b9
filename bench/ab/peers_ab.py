#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Same-repetition A/B of two builds of the peer program (staticrt-bench-peers).

Runs the OLD and NEW binaries alternately, one repetition each per round (order swapped every
round so neither always runs first), and prints, per measurement, the median of the per-round
ratios NEW/OLD (higher is better for rates, lower for latencies: the `better` column says which
way the ratio should go) with a 90 % bootstrap interval of that median, plus the medians of each
side. Rounds are grouped by the machine state the runs' probes reported (fast / mid / slow /
mixed), worst state first, because the VM's state moves every figure more than most changes do.
A round counts in a state only when the probes of both sides' runs put them there; a round whose
OLD and NEW runs met different states is "mixed" (it would compare one state with another).

  bench/ab/peers_ab.py OLD_BIN NEW_BIN [--rounds 11] [-- peer-program args...]
  e.g. bench/ab/peers_ab.py /tmp/old/build/bench/bench/staticrt-bench-peers \
       build/bench/bench/staticrt-bench-peers --rounds 11 -- --filter pool_dispatch --libs staticrt,staticrt_futures

`peers_ab.py --self-test` checks the summary over two made-up programs (ctest
bench_flags.peers_ab_summary).

Build OLD from a commit with: git archive REV | tar -x -C /tmp/old && cd /tmp/old &&
cmake --preset bench && cmake --build --preset bench --target staticrt-bench-peers

--copies K (default 8): each binary is copied K times into a temporary folder and round r runs
copy r % K of each side. One file's text sits in the same page-cache pages for as long as it
stays cached, and on the development VM a binary keeps one speed "mode" (up to 1.3x apart on the
queue rows) for minutes, then another, whatever its code (docs/bench/waiting-layer-ab.md,
"Half-ring slip, and copies of one binary"); K copies sample K placements, so an A/B of
identical code stays within a few percent of 1.00 (0.98-1.06 with K = 8, 32 rounds). An A/A
control: pass the same binary twice.

--relink: copy r is not a byte copy but the program relinked from its own build folder (found
from the binary's path, <build>/bench/staticrt-bench-peers, through `ninja -t commands`) by lld
with `--shuffle-sections=*=<r + 1>`: every input section lands at another address, a different
random order per copy. Build both sides with `-DCMAKE_CXX_FLAGS="-ffunction-sections
-fdata-sections"` so that each function and global is a section of its own (otherwise whole
objects move, and two functions of one file keep their distance). On the development VM the
same instructions run up to 1.3x apart in two placements (docs/bench/waiting-layer-ab.md,
"Layouts"); with --relink each side's median covers K placements of its code instead of the one
its link happened to give. The objects are not rebuilt: build both sides first.

--fresh: every round runs files written for that round alone: with --relink, both sides relinked
with the round's own shuffle seed (a layout no other round uses; ~0.1 s a link), otherwise new
byte copies of copy r % K. A file keeps its speed mode as long as its pages stay cached, so with
K fixed files every round of a run reuses the same K draws and two runs of the same pair of
builds disagree by more than their intervals; with --fresh each round is a draw of its own.

--heap-offsets: each round draws an in-page offset (a multiple of 128 below 4096, the same for
both sides) and runs both programs under bench/ab/heap_place.cpp (built into the temporary
folder with $CXX or c++, preloaded): every over-aligned allocation of 4 KiB or more, i.e. each
queue, gets pages of its own at that offset instead of the place malloc's history gives it. That
history is not the code under test, and it differs between two builds whenever the harness does
(docs/bench/waiting-layer-ab.md, "Heap placement").

--seed S (default 1): the seed of the per-round draws (layout seeds S + r, offsets); printed in
the header line, so a run can be repeated draw for draw.

Peer-program arguments after `--` go to both sides; `--settle-ms 1000` sleeps a second before each
measurement. Without it a row runs right after the one before it, and what that row left on the
machine moves it: parallel_map read 0.92-0.97 against b7841c7 behind the dispatch rows (main's
finish them 2-3x sooner) and 0.99-1.01 with the settle (docs/bench/waiting-layer-ab.md, "A settled
machine between rows").
"""
import argparse
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile

LINE = re.compile(r"^(\S+) (\S+) ([0-9.eE+-]+) (\S+)$")
STATE = re.compile(r"^state \d+ (\S+) rtt_before")
ROW_RTT = re.compile(r"^row_rtt (\S+) ns$")
ORDER = ["slow", "mixed", "mid", "fast"]


def run_once(binary, extra, env=None):
    out = subprocess.run([binary, "--reps", "1"] + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, check=False, env=env).stdout
    values, state, row = {}, "unknown", None
    for line in out.split("\n"):
        m = STATE.match(line)
        if m:
            state = m.group(1)
            continue
        m = ROW_RTT.match(line)
        if m:
            row = float(m.group(1)) if m.group(1) != "STALL" else None
            continue
        m = LINE.match(line)
        if m and m.group(1) not in ("probe", "rep"):
            # (value, unit, the row_rtt probed just before this row or None)
            values[(m.group(1), m.group(2))] = (float(m.group(3)), m.group(4), row)
            row = None
    return values, state


def self_test():
    """Runs the A/B over two made-up programs (shell scripts that print one repetition: a state
    line, row probes, a rate and a latency; NEW twice OLD's values) and checks the summary lines:
    the ratio, the state, the rounds and which way is better. Measures nothing."""
    checks = 0
    with tempfile.TemporaryDirectory(prefix="peers_ab_selftest.") as d:
        progs = {}
        for side, v in (("old", 100), ("new", 200)):
            progs[side] = os.path.join(d, side)
            with open(progs[side], "w", encoding="utf-8") as f:
                f.write("#!/bin/sh\n"
                        "echo 'state 1 slow rtt_before 450.0 rtt_after 452.0'\n"
                        "echo 'row_rtt 455.0 ns'\n"
                        f"echo 'pool_dispatch staticrt {v} tasks/s'\n"
                        "echo 'row_rtt STALL ns'\n"
                        f"echo 'pingpong_rtt staticrt {v} ns'\n")
            os.chmod(progs[side], 0o755)
        r = subprocess.run([sys.executable, os.path.abspath(__file__), progs["old"], progs["new"], "--rounds", "3",
                            "--copies", "2"], capture_output=True, text=True, check=False)
        want = ["pool_dispatch staticrt slow 3 100 200 2.000 2.000 2.000 higher",
                "pingpong_rtt staticrt slow 3 100 200 2.000 2.000 2.000 lower"]
        for check, ok in [("exit status 0", r.returncode == 0)] + [(w, w in r.stdout.splitlines()) for w in want]:
            if not ok:
                sys.exit(f"self-test failed: {check}\n--- stdout\n{r.stdout}--- stderr\n{r.stderr}")
            checks += 1
    print(f"self-test: {checks} checks passed")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--copies", type=int, default=8, help="copies of each binary, used in turn (>= 1)")
    ap.add_argument("--relink", action="store_true", help="copy k: relinked by lld, sections shuffled with seed k + 1")
    ap.add_argument("--fresh", action="store_true", help="new files every round (with --relink: a layout per round)")
    ap.add_argument("--heap-offsets", action="store_true", help="each round: queues on pages of their own at a drawn offset")
    ap.add_argument("--seed", type=int, default=1, help="seed of the per-round draws")
    ap.add_argument("--raw", help="also write every round's values to this file (TSV), to pool runs")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    a = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if a.copies < 1:
        ap.error("--copies must be >= 1")
    with tempfile.TemporaryDirectory(prefix="peers_ab.") as tmp:
        copies = {side: [] for side in ("old", "new")}
        links = {}
        for side, binary in (("old", a.old), ("new", a.new)):
            if not os.access(binary, os.X_OK):
                ap.error(f"{binary}: not an executable file")
            links[side] = link_command(binary) if a.relink else None
            for k in range(0 if a.fresh and a.relink else a.copies):
                dst = os.path.join(tmp, f"{side}{k}")
                if links[side]:
                    relink(links[side], dst, k + 1)
                else:
                    shutil.copy2(binary, dst)  # a new file: new page-cache pages for its text
                copies[side].append(dst)
        preload = build_heap_place(tmp) if a.heap_offsets else None
        return run_rounds(a, copies, links, preload, extra, tmp)


def link_command(binary):
    """(build folder, link arguments, index of "-o") of binary, from its build folder's ninja."""
    build = os.path.dirname(os.path.dirname(os.path.abspath(binary)))
    target = os.path.relpath(os.path.abspath(binary), build)
    cache = os.path.join(build, "CMakeCache.txt")
    if os.path.exists(cache) and "-ffunction-sections" not in open(cache, encoding="utf-8").read():
        print(f"peers_ab: {build} was not built with -ffunction-sections: only whole objects move",
              file=sys.stderr)
    cmds = subprocess.run(["ninja", "-C", build, "-t", "commands", target], stdout=subprocess.PIPE,
                          text=True, check=True).stdout.strip().split("\n")
    link = cmds[-1].removeprefix(": && ").removesuffix(" && :")
    args = shlex.split(link)
    out = args.index("-o") if "-o" in args else -1
    if out < 0 or args[out + 1] != target:
        sys.exit(f"{build}: the last command for {target} is not its link: {link}")
    return build, args, out


def relink(link, dst, seed):
    """Links the objects of `link` (link_command()) again into dst with lld, input sections
    shuffled with `seed`."""
    build, args, out = link
    args = args[:out] + ["-fuse-ld=lld", f"-Wl,--shuffle-sections=*={seed}", "-o", os.path.abspath(dst)] \
        + args[out + 2:]
    subprocess.run(args, cwd=build, check=True)


def build_heap_place(tmp):
    """Compiles bench/ab/heap_place.cpp into tmp; returns the library's path."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "heap_place.cpp")
    lib = os.path.join(tmp, "heap_place.so")
    subprocess.run([os.environ.get("CXX", "c++"), "-O2", "-std=c++17", "-shared", "-fPIC", src, "-o", lib], check=True)
    return lib


def heap_env(preload, rng):
    """The environment of a run under heap_place.so (`preload`, or None: the plain environment, no
    draw): an in-page offset drawn from rng, a multiple of 128 below 4096."""
    if not preload:
        return None
    return dict(os.environ, LD_PRELOAD=preload, STATICRT_AB_HEAP_OFFSET=str(128 * rng.randrange(32)))


def round_files(a, copies, links, tmp, r):
    """The (old, new) programs of round r."""
    files = []
    for side in ("old", "new"):
        if not a.fresh:
            files.append(copies[side][r % a.copies])
            continue
        dst = os.path.join(tmp, f"{side}.r{r}")  # kept to the end: its pages go to no later copy
        if links[side]:
            relink(links[side], dst, a.seed + r)
        else:
            shutil.copy2(copies[side][r % a.copies], dst)
        files.append(dst)
    return files


def bootstrap_ci(ratios, resamples=2000):
    """90 % interval of the median ratio: the 5th and 95th percentiles of the medians of
    `resamples` resamples (with replacement) of the rounds. Seeded: the same rounds print the
    same interval."""
    rng = random.Random(1)
    meds = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(resamples))
    return meds[resamples * 5 // 100], meds[resamples * 95 // 100 - 1]


def run_rounds(a, copies, links, preload, extra, tmp):
    raw = open(a.raw, "w", encoding="utf-8") if a.raw else None
    if raw:
        raw.write("round\tworkload\tlibrary\tstate_old\tstate_new\told\tnew\n")
    pairs = {}  # (workload, lib) -> state -> list of (old, new)
    units = {}
    rng = random.Random(a.seed)
    for r in range(a.rounds):
        old, new = round_files(a, copies, links, tmp, r)
        order = [("old", old), ("new", new)] if r % 2 == 0 else [("new", new), ("old", old)]
        env = heap_env(preload, rng)
        got = {}
        for side, binary in order:
            got[side] = run_once(binary, extra, env)
            if not got[side][0]:
                sys.exit(f"{binary} printed no measurement (check the arguments: {' '.join(extra)})")
        # A round counts in a state only when both sides' probes put it there: a round whose two
        # runs met different states compares one state with another, and is "mixed".
        state = got["new"][1] if got["new"][1] == got["old"][1] else "mixed"
        for key, (v_new, unit, _row_rtt) in got["new"][0].items():
            if key in got["old"][0]:
                v_old = got["old"][0][key][0]
                pairs.setdefault(key, {}).setdefault(state, []).append((v_old, v_new))
                units[key] = unit
                if raw:
                    raw.write(f"{r + 1}\t{key[0]}\t{key[1]}\t{got['old'][1]}\t{got['new'][1]}\t{v_old:.6g}\t{v_new:.6g}\n")
        print(f"round {r + 1}/{a.rounds}: state {state} (old {got['old'][1]}, new {got['new'][1]})",
              file=sys.stderr, flush=True)
    if raw:
        raw.close()
    if a.fresh and a.relink:
        kind = f"a relinked layout per round (seeds {a.seed}..{a.seed + a.rounds - 1})"
    else:
        kind = f"{a.copies} {'relinked layouts' if a.relink else 'copies'} of each binary" \
            + (", a fresh file each round" if a.fresh else "")
    heap = f", queues at a drawn in-page offset (seed {a.seed})" if preload else ""
    print(f"# peers_ab: {a.rounds} rounds, {kind}{heap}, args: {' '.join(extra)}")
    print("# measurement state rounds median_old median_new median(new/old) ci90_lo ci90_hi better")
    for key in sorted(pairs):
        for state in sorted(pairs[key], key=lambda s: ORDER.index(s) if s in ORDER else 9):
            p = pairs[key][state]
            unit = units[key]
            better = "lower" if unit in ("ns", "us", "s") else "higher"
            ratios = [n / o for o, n in p if o > 0]
            lo, hi = bootstrap_ci(ratios)
            print(f"{key[0]} {key[1]} {state} {len(p)} {statistics.median(o for o, _ in p):.4g} "
                  f"{statistics.median(n for _, n in p):.4g} {statistics.median(ratios):.3f} {lo:.3f} {hi:.3f} "
                  f"{better}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
