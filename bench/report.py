#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write docs/bench/BENCHMARKS.md from staticrt-bench-peers output (run by bench/run_peers.sh).

  bench/report.py docs/bench/peers.txt docs/bench/BENCHMARKS.md [--notes bench/notes.md] [--plot peers.png]
  bench/report.py peers.txt            # no output page: print the per-state goal table to stdout
  bench/report.py --self-test          # checks the per-row states on made-up output; reads no file

The document: machine/compiler/date (from the '# ' header lines run_peers.sh writes), the machine
states seen (one per repetition, from the raw round-trip probe before and after it), the goals
(GOALS below: the one list) per state, worst state first, with the ratios in each state (a goal is
met only if it is met in every state observed; a same-repetition ratio takes the state of the
row_rtt probes of its two rows when the run has them, else its repetition's), the goals over all
repetitions, the
per-workload table (median, min, max over repetitions), the program's own ratio lines, the plot,
and the notes file.
"""
import argparse
import statistics
import sys
from collections import OrderedDict


def parse(path):
    meta = OrderedDict()
    reps = []  # list of {(workload, lib): value or 'STALL'}
    probes = []
    ratios = []
    units = {}
    for line in open(path):
        p = line.split()
        if not p:
            continue
        if p[0] == "#" and len(p) >= 2 and p[1] in ("date", "cpu", "compiler", "command"):
            meta[p[1]] = " ".join(p[2:])
        elif p[0] == "rep":
            reps.append(OrderedDict())
        elif p[0] == "probe":
            try:
                probes.append(float(p[2]))
            except ValueError:
                pass
        elif p[0] == "ratio":
            ratios.append(p[1:])
        elif len(p) == 4 and reps and not p[0].startswith("#"):
            units[p[0]] = p[3]
            try:
                reps[-1][(p[0], p[1])] = float(p[2])
            except ValueError:
                reps[-1][(p[0], p[1])] = p[2]
    return meta, reps, probes, ratios, units


# The goals of issue 15, in one place: (text, workload, staticrt library, peers, lower is better,
# threshold). peers: a list of library names, or EVERY = every peer of that workload that ran in the
# repetition (the ratio is then against the best of them). A ratio is ours / peer in the same
# repetition; the goal holds when ratio >= threshold (higher is better) or <= threshold (lower).
EVERY = "every peer"
GOALS = [
    ("pool_dispatch (detached) >= 2x std pool", "pool_dispatch", "staticrt", ["std_pool"], False, 2.0),
    ("pool_dispatch (detached) >= 1.5x oneTBB task_group", "pool_dispatch", "staticrt", ["tbb_task_group"], False, 1.5),
    ("pool_dispatch with futures >= 1x std pool", "pool_dispatch", "staticrt_futures", ["std_pool"], False, 1.0),
    ("parallel_map >= 0.95x oneTBB parallel_for", "parallel_map", "staticrt", ["tbb_parallel_for"], False, 0.95),
    ("SPSC throughput, public blocking API >= 1.0x every peer", "spsc_throughput", "staticrt", EVERY, False, 1.0),
    ("(extra) SPSC throughput, public blocking API >= 1.0x atomic_queue spinning", "spsc_throughput", "staticrt",
     ["atomic_queue_spin"], False, 1.0),
    ("(extra) SPSC throughput, staticrt try_ spin loop >= 1.0x atomic_queue spinning", "spsc_throughput",
     "staticrt_try", ["atomic_queue_spin"], False, 1.0),
    ("ping-pong round trip <= 1.1x raw atomic floor", "pingpong_rtt", "staticrt", ["raw_atomic"], True, 1.1),
    ("MPMC 1p1c throughput >= 1.0x every peer", "mpmc_throughput_1p1c", "staticrt", EVERY, False, 1.0),
    ("MPMC 2p2c (oversubscribed) throughput >= 1.0x every peer", "mpmc_throughput_2p2c", "staticrt", EVERY, False,
     1.0),
    ("(scq) MPMC 1p1c, ScqQueue >= 1.0x MpmcQueue", "mpmc_throughput_1p1c", "staticrt_scq", ["staticrt"], False, 1.0),
    ("(scq) MPMC 2p2c, ScqQueue >= 1.0x MpmcQueue", "mpmc_throughput_2p2c", "staticrt_scq", ["staticrt"], False, 1.0),
    ("(scq) MPMC 2p2c, ScqQueue >= 1.0x atomic_queue spinning", "mpmc_throughput_2p2c", "staticrt_scq",
     ["atomic_queue_spin"], False, 1.0),
    ("(scq) MPMC 1p1c, ScqQueue compact layout >= 1.0x MpmcQueue", "mpmc_throughput_1p1c", "staticrt_scq_compact",
     ["staticrt"], False, 1.0),
    ("(scq) MPMC 2p2c, ScqQueue compact layout >= 1.0x MpmcQueue", "mpmc_throughput_2p2c", "staticrt_scq_compact",
     ["staticrt"], False, 1.0),
    ("(scq) MPMC 2p2c, ScqQueue compact layout >= 1.0x atomic_queue spinning", "mpmc_throughput_2p2c",
     "staticrt_scq_compact", ["atomic_queue_spin"], False, 1.0),
    ("(ticket) MPMC 1p1c, TicketQueue >= 1.0x MpmcQueue", "mpmc_throughput_1p1c", "staticrt_ticket", ["staticrt"],
     False, 1.0),
    ("(ticket) MPMC 2p2c, TicketQueue >= 1.0x MpmcQueue", "mpmc_throughput_2p2c", "staticrt_ticket", ["staticrt"],
     False, 1.0),
    ("(ticket) MPMC 2p2c, TicketQueue >= 1.0x atomic_queue spinning", "mpmc_throughput_2p2c", "staticrt_ticket",
     ["atomic_queue_spin"], False, 1.0),
]

# Default state bands of staticrt-bench-peers (--state-bands), used for files without a '# states' line.
DEFAULT_BANDS = (90.0, 170.0)


def parse_states(path):
    """The state of each repetition, in order: [{'state', 'before', 'after'}], and the bands.

    Files written before the state lines existed get the band of their one probe per repetition,
    named '<band>?' (one probe cannot show a state change).
    """
    bands = DEFAULT_BANDS
    states = []
    probes = []  # the 'probe' line of each rep, for old files
    nrep = 0
    for line in open(path):
        p = line.split()
        if len(p) >= 6 and p[0] == "#" and p[1] == "states":
            try:
                bands = (float(p[3]), float(p[5]))
            except ValueError:
                pass
        elif p and p[0] == "rep":
            nrep += 1
            probes.append(None)
        elif p and p[0] == "probe" and probes:
            try:
                probes[-1] = float(p[2])
            except (IndexError, ValueError):
                pass
        elif len(p) >= 7 and p[0] == "state" and p[3] == "rtt_before" and p[5] == "rtt_after":
            def num(t):
                try:
                    return float(t)
                except ValueError:
                    return None
            states.append({"state": p[2], "before": num(p[4]), "after": num(p[6])})
    if not states and nrep:
        def band(v):
            if v is None:
                return "unknown"
            return ("fast" if v < bands[0] else "mid" if v < bands[1] else "slow") + "?"
        states = [{"state": band(v), "before": v, "after": None} for v in probes]
    return bands, states


def parse_row_rtts(path):
    """Per repetition, the row_rtt probe printed before each measurement: [{(workload, lib): ns or
    None (STALL)}]; a repetition without row probes (older files, --row-probe 0) gives {}."""
    rows = []
    pending = None
    for line in open(path):
        p = line.split()
        if not p:
            continue
        if p[0] == "rep":
            rows.append({})
            pending = None
        elif p[0] == "row_rtt" and len(p) == 3:
            try:
                pending = float(p[1])
            except ValueError:
                pending = "STALL"
        elif len(p) == 4 and rows and not p[0].startswith("#") and p[0] not in ("probe", "rep"):
            if pending is not None:
                rows[-1][(p[0], p[1])] = None if pending == "STALL" else pending
            pending = None
    return rows


def band_name(v, bands):
    if v is None:
        return "unknown"
    return "fast" if v < bands[0] else "mid" if v < bands[1] else "slow"


def pair_band(x, y, bands):
    """The state of a ratio whose two rows were probed at x and y ns: their band, "mixed" when the
    bands differ, "unknown" when a probe stalled (None)."""
    bx, by = band_name(x, bands), band_name(y, bands)
    return bx if bx == by else ("unknown" if "unknown" in (bx, by) else "mixed")


def goal_pairs(reps, goal, peers_of):
    """Per-repetition ratios of a goal: {rep index: (ours / best named peer in that rep, that peer)}."""
    _, wl, ours, peers, lower, _ = goal
    names = peers_of(wl) if peers == EVERY else peers
    out = {}
    for i, r in enumerate(reps):
        a = r.get((wl, ours))
        vals = [(r[(wl, p)], p) for p in names if isinstance(r.get((wl, p)), float)]
        if not isinstance(a, float) or not vals:
            continue
        best = min(vals) if lower else max(vals)
        if best[0] > 0:
            out[i] = (a / best[0], best[1])
    return out


def goal_ratio(reps, goal, peers_of):
    """Per-repetition ratios of a goal: {rep index: ours / best named peer in that rep}."""
    return {i: v for i, (v, _) in goal_pairs(reps, goal, peers_of).items()}


def ratio_state(i, wl, ours, peer, states, rows, bands):
    """The state of one same-repetition ratio: the band of its two rows' row_rtt probes ("mixed"
    when they differ), or the repetition's state when the rows have no probes."""
    r = rows[i] if rows is not None and i < len(rows) else {}
    if (wl, ours) in r and (wl, peer) in r:
        return pair_band(r[(wl, ours)], r[(wl, peer)], bands)
    return states[i]["state"] if i < len(states) else "unrecorded"


def goal_met(goal, ratio):
    lower, threshold = goal[4], goal[5]
    return ratio <= threshold if lower else ratio >= threshold


def per_row_mode(rows):
    """True when the run printed row_rtt probes: a ratio's state is then its two rows' state."""
    return any(rows or [])


def counts_for_verdict(state, rows):
    """Whether a state's cell decides "met in every state". With row probes a "mixed" ratio compares
    a row taken in one state with a row taken in another (and "unknown" had a stalled probe): it
    measures no state, so it is shown but does not decide. Without row probes every cell decides
    (a "mixed" repetition may still hold same-state pairs)."""
    return not (per_row_mode(rows) and state in ("mixed", "unknown"))


def per_state_goals(reps, states, peers_of, rows=None, bands=DEFAULT_BANDS):
    """Rows per goal: (goal, [(state, n, median ratio, met)] worst state first, met everywhere or None)."""
    out = []
    for g in GOALS:
        by_state = OrderedDict()
        for i, (v, peer) in goal_pairs(reps, g, peers_of).items():
            st = ratio_state(i, g[1], g[2], peer, states, rows, bands)
            by_state.setdefault(st, []).append(v)
        cells = [(st, len(vs), med(vs), goal_met(g, med(vs)), min(vs), max(vs)) for st, vs in by_state.items()]
        # worst first: the state farthest on the wrong side of the goal; cells that do not decide last
        cells.sort(key=lambda c: (not counts_for_verdict(c[0], rows), -c[2] if g[4] else c[2]))
        deciding = [c for c in cells if counts_for_verdict(c[0], rows)]
        everywhere = None if not deciding else all(c[3] for c in deciding)
        out.append((g, cells, everywhere))
    return out


def state_lines(reps, states, bands, peers_of, rows=None):
    """Markdown: the states seen and every goal per state (also printed when no output page is given)."""
    out = []
    out.append(f"State bands (raw core-to-core round trip, probed before and after each repetition): "
               f"fast < {bands[0]:g} ns <= mid < {bands[1]:g} ns <= slow; probes in two bands: mixed.")
    out.append("")
    out.append("| state | reps | rtt before (ns) | rtt after (ns) |\n|---|---|---|---|")
    seen = OrderedDict()
    for st in states:
        seen.setdefault(st["state"], []).append(st)
    for name, sts in sorted(seen.items(), key=lambda kv: kv[0]):
        def span(key):
            vs = [s[key] for s in sts if s[key] is not None]
            return "n/a" if not vs else f"{min(vs):.0f} .. {max(vs):.0f}"
        out.append(f"| {name} | {len(sts)} | {span('before')} | {span('after')} |")
    out.append("")
    probed = [v for r in (rows or []) for v in r.values()]
    if probed:
        count = OrderedDict()
        for v in probed:
            b = band_name(v, bands)
            count[b] = count.get(b, 0) + 1
        out.append(f"Row probes (a short raw round trip before each measurement, `row_rtt`): {len(probed)} rows; "
                   + ", ".join(f"{b} {n}" for b, n in sorted(count.items())) + ". A same-repetition ratio below "
                   "takes the state of its two rows' probes. Mixed: they fell in different bands, so the ratio "
                   "compares two states; it is shown (in brackets) but does not decide whether a goal is met.")
        out.append("")
        legend = "n = same-repetition ratios in that state"
    else:
        legend = "n = repetitions in that state with a value on both sides"
    out.append("Each goal per state, worst state first (median of same-repetition ratios within the state; "
               f"{legend}; their range after it when n > 1). Met = met in every state observed.")
    out.append("")
    out.append("| goal | worst state | per state (worst first) | met in every state |\n|---|---|---|---|")
    for g, cells, everywhere in per_state_goals(reps, states, peers_of, rows, bands):
        if not cells:
            out.append(f"| {g[0]} | n/a | not measured | n/a |")
            continue
        def cell(st, n, m, ok, lo, hi):
            # the spread: a median of two is their mean and can hide a miss in one repetition
            text = f"{st}: {m:.2f}x (n={n})" if n == 1 else f"{st}: {m:.2f}x (n={n}, {lo:.2f}-{hi:.2f})"
            if not counts_for_verdict(st, rows):
                return f"({text})"
            return text + ("" if ok else " **miss**")
        per = "; ".join(cell(*c) for c in cells)
        worst = cells[0]
        if everywhere is None:
            out.append(f"| {g[0]} | n/a (no same-state pair) | {per} | n/a |")
            continue
        out.append(f"| {g[0]} | {worst[0]} {worst[2]:.2f}x | {per} | {'yes' if everywhere else '**no**'} |")
    out.append("")
    return out


def med(xs):
    return statistics.median(xs) if xs else None


def same_rep_ratio(reps, wl, ours, peers, lower_better=False):
    """Median over reps of ours / best peer value in the same rep (peers that ran)."""
    rs = []
    for r in reps:
        a = r.get((wl, ours))
        vals = [r[(wl, p)] for p in peers if isinstance(r.get((wl, p)), float)]
        if not isinstance(a, float) or not vals:
            continue
        best = min(vals) if lower_better else max(vals)
        rs.append(a / best)
    return med(rs), len(rs)


def fmt(v):
    if v is None:
        return "n/a"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e3:
        return f"{v / 1e3:.1f} k"
    return f"{v:.1f}"


def self_test():
    """Per-row states on a made-up run: rep 1 slow throughout; rep 2 a "mixed" repetition whose
    ping-pong rows were both probed mid, and whose SPSC rows straddle the change."""
    import os
    import tempfile
    text = "\n".join([
        "# states fast_below 90 slow_from 170",
        "rep 1", "probe raw_atomic_rtt 450.0 ns",
        "row_rtt 455.0 ns", "pingpong_rtt staticrt 470 ns", "row_rtt 460.0 ns", "pingpong_rtt raw_atomic 460 ns",
        "row_rtt 450.0 ns", "spsc_throughput staticrt 3e8 items/s",
        "row_rtt 452.0 ns", "spsc_throughput atomic_queue_spin 1e8 items/s",
        "state 1 slow rtt_before 450.0 rtt_after 455.0",
        "rep 2", "probe raw_atomic_rtt 450.0 ns",
        "row_rtt 451.0 ns", "spsc_throughput staticrt 2e8 items/s",
        "row_rtt 120.0 ns", "spsc_throughput atomic_queue_spin 1e8 items/s",
        "row_rtt 121.0 ns", "pingpong_rtt staticrt 150 ns", "row_rtt STALL ns", "pingpong_rtt raw_atomic 120 ns",
        "row_rtt 119.0 ns", "pingpong_rtt raw_atomic_b 120 ns",
        "state 2 mixed rtt_before 450.0 rtt_after 121.0", ""])
    fd, path = tempfile.mkstemp(suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    try:
        _, reps, _, _, _ = parse(path)
        bands, states = parse_states(path)
        rows = parse_row_rtts(path)
    finally:
        os.unlink(path)
    checks = [
        (len(rows) == 2 and rows[0][("pingpong_rtt", "staticrt")] == 455.0, f"row probes parsed: {rows!r}"),
        (rows[1][("pingpong_rtt", "raw_atomic")] is None, "a stalled row probe is None"),
        (ratio_state(0, "spsc_throughput", "staticrt", "atomic_queue_spin", states, rows, bands) == "slow",
         "both rows slow"),
        (ratio_state(1, "spsc_throughput", "staticrt", "atomic_queue_spin", states, rows, bands) == "mixed",
         "rows in two bands: mixed"),
        (ratio_state(1, "pingpong_rtt", "staticrt", "raw_atomic", states, rows, bands) == "unknown",
         "a stalled row probe: unknown"),
        (ratio_state(1, "pingpong_rtt", "staticrt", "raw_atomic_b", states, rows, bands) == "mid",
         "both rows mid in a mixed repetition: mid"),
        (ratio_state(1, "pingpong_rtt", "staticrt", "raw_atomic", states, None, bands) == "mixed",
         "no row probes: the repetition's state"),
    ]
    goal = next(g for g in GOALS if g[1] == "spsc_throughput" and g[3] == EVERY)
    cells = dict((c[0], c) for c in per_state_goals(reps, states, lambda wl: ["atomic_queue_spin"], rows, bands)
                 [GOALS.index(goal)][1])
    checks.append((set(cells) == {"slow", "mixed"} and cells["slow"][1] == 1 and abs(cells["slow"][2] - 3.0) < 1e-9,
                   f"goal cells: {cells!r}"))
    # rep 2's SPSC pair (2.0x) is mixed: shown, not deciding; a mixed miss must not fail the goal either
    verdict = per_state_goals(reps, states, lambda wl: ["atomic_queue_spin"], rows, bands)[GOALS.index(goal)][2]
    checks.append((verdict is True, f"a mixed cell decides nothing: {verdict!r}"))
    checks.append((counts_for_verdict("mixed", None) and not counts_for_verdict("mixed", rows),
                   "without row probes a mixed repetition still decides"))
    return report_checks("report.py", checks)


def report_checks(tool, checks):
    """Prints a self-test's outcome ([(ok, message)]): each failed check, or how many passed. 0 / 1."""
    bad = [msg for ok, msg in checks if not ok]
    for msg in bad:
        print(f"{tool} self-test FAILED: {msg}", file=sys.stderr)
    if not bad:
        print(f"{tool} self-test: {len(checks)} checks passed")
    return 1 if bad else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="staticrt-bench-peers output, e.g. docs/bench/peers.txt")
    ap.add_argument("output", nargs="?",
                    help="Markdown page to write, e.g. docs/bench/BENCHMARKS.md; omitted: print the machine "
                         "states and the per-state goal table to stdout")
    ap.add_argument("--notes", help="Markdown appended at the end (e.g. bench/notes.md)")
    ap.add_argument("--plot", default="peers.png", help="image linked from the page, relative to it (default: peers.png)")
    args = ap.parse_args()
    meta, reps, probes, ratios, units = parse(args.input)
    bands, states = parse_states(args.input)
    rows = parse_row_rtts(args.input)
    if args.output is None:
        libs0 = OrderedDict()
        for r in reps:
            for (wl, lib) in r:
                libs0.setdefault(wl, OrderedDict())[lib] = True
        print("\n".join(state_lines(reps, states, bands,
                                    lambda wl: [l for l in libs0.get(wl, {}) if not l.startswith("staticrt")], rows)))
        return 0
    notes = open(args.notes).read() if args.notes else ""
    out = ["# Benchmarks: staticrt vs peers", ""]
    out.append("Generated by `bench/run_peers.sh` (builds the `bench` preset, runs `staticrt-bench-peers`, "
               "then `bench/plot.py peers` and `bench/report.py`). Do not edit by hand: edit `bench/notes.md`.")
    out.append("")
    out.append("| | |\n|---|---|")
    for k in ("date", "cpu", "compiler", "command"):
        out.append(f"| {k} | {meta.get(k, 'n/a')} |")
    out.append(f"| repetitions | {len(reps)} |")
    if probes:
        out.append(f"| raw atomic round trip per rep (ns) | {', '.join(f'{p:.0f}' for p in probes)} |")
    out.append("")
    libs = OrderedDict()
    for r in reps:
        for (wl, lib) in r:
            libs.setdefault(wl, OrderedDict())[lib] = True

    def peers_of(wl):
        return [l for l in libs.get(wl, {}) if not l.startswith("staticrt")]

    out.append("## Machine states and goals per state")
    out.append("")
    out.extend(state_lines(reps, states, bands, peers_of, rows))
    out.append("## Goals over all repetitions: median of same-repetition ratios")
    out.append("")
    out.append("\"best peer\" is, per repetition, the best value among the peers that finished (STALL runs "
               "are left out); repetitions where staticrt or every peer stalled are not counted. This mixes "
               "machine states: the table above is the one that decides whether a goal is met.")
    out.append("")
    out.append("| goal | measured | met |\n|---|---|---|")
    for g in GOALS:
        rs = list(goal_ratio(reps, g, peers_of).values())
        m = med(rs)
        met = "n/a" if m is None else ("yes" if goal_met(g, m) else "**no**")
        out.append(f"| {g[0]} | {'n/a' if m is None else f'{m:.2f}x'} ({len(rs)} reps) | {met} |")
    out.append("")
    # Issue 13 (real-time, bench/peers/rt.cpp): wake latency against cyclictest in the same repetition.
    out.append("## Goals (issue 13): real-time wake latency, median of same-repetition figures")
    out.append("")
    out.append("| goal | measured | met |\n|---|---|---|")
    for text, wl, peer, limit in (
            ("rt_wake_latency p99 <= cyclictest p99 + 2 us", "rt_wake_latency_p99", "cyclictest", 2000.0),
            ("rt_wake_latency max <= cyclictest max + 10 us", "rt_wake_latency_max", "cyclictest", 10000.0)):
        ds = [r[(wl, "staticrt")] - r[(wl, peer)] for r in reps
              if isinstance(r.get((wl, "staticrt")), float) and isinstance(r.get((wl, peer)), float)]
        m = med(ds)
        met = "n/a" if m is None else ("yes" if m <= limit else "**no**")
        out.append(f"| {text} | {'n/a' if m is None else f'{m / 1e3:+.1f} us'} ({len(ds)} reps) | {met} |")
    m, n = same_rep_ratio(reps, "rt_wake_latency_p99", "staticrt", ["std_pool"], True)
    out.append(f"| rt_wake_latency p99 <= 0.5x std pool | {'n/a' if m is None else f'{m:.2f}x'} ({n} reps) | "
               f"{'n/a' if m is None else ('yes' if m <= 0.5 else '**no**')} |")
    out.append("")
    out.append("## Results (median over repetitions; min .. max; STALL = killed by the 5 s watchdog)")
    out.append("")
    for wl, ls in libs.items():
        unit = units.get(wl, "")
        out.append(f"### {wl} ({unit})")
        out.append("")
        out.append("| library | median | min | max | runs | stalls/errors |\n|---|---|---|---|---|---|")
        for lib in ls:
            vals = [r[(wl, lib)] for r in reps if isinstance(r.get((wl, lib)), float)]
            bad = [r[(wl, lib)] for r in reps if isinstance(r.get((wl, lib)), str)]
            name = f"**{lib}**" if lib.startswith("staticrt") else lib
            out.append(f"| {name} | {fmt(med(vals))} | {fmt(min(vals) if vals else None)} | "
                       f"{fmt(max(vals) if vals else None)} | {len(vals)} | {len(bad) if bad else ''} "
                       f"{' '.join(sorted(set(bad)))} |")
        out.append("")
    out.append("## Median same-repetition ratio staticrt / peer (every pair)")
    out.append("")
    out.append("items/s: > 1 means staticrt moves more; ns: < 1 means staticrt is faster.")
    out.append("")
    out.append("| workload | staticrt | peer | ratio | reps |\n|---|---|---|---|---|")
    for r in ratios:
        if len(r) >= 5:
            out.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} |")
    out.append("")
    out.append("## Plot")
    out.append("")
    out.append(f"![staticrt vs peers]({args.plot})")
    out.append("")
    if notes:
        out.append(notes.rstrip())
        out.append("")
    open(args.output, "w").write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
