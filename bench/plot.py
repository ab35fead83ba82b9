#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Plots of staticrt-bench-peers output, drawn with matplotlib (Debian: python3-matplotlib).

  bench/plot.py peers   docs/bench/peers.txt         docs/bench/peers.png    # one bar panel per workload
  bench/plot.py scaling docs/bench/scaling-16core.txt docs/bench/scaling.png  # throughput vs threads
      [--also docs/bench/scaling-16core-maps.txt]   # families measured again replace the first run's

peers: horizontal bars, one per library: the median over repetitions, a whisker from min to max;
staticrt's bars are coloured, the peers' grey. A panel whose values span more than 30x uses a log axis.
scaling: one panel per workload family (pool dispatch, parallel map, compute map, process map,
MPMC KpKc), threads on x, median throughput on y, one line per library; a repetition that stalled
leaves the point out. The output format follows the file name (.png, .svg, .pdf).
"""
import argparse
import math
import os
import re
import statistics
import sys
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import parse  # noqa: E402  (bench/report.py: the staticrt-bench-peers line format)

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import EngFormatter
except ImportError:  # pragma: no cover
    sys.exit("bench/plot.py needs matplotlib: apt-get install python3-matplotlib")

LOWER_IS_BETTER_UNITS = {"ns", "us", "ms"}
STATICRT_COLOUR = "#1f77b4"
PEER_COLOUR = "#9a9a9a"


def values_by(reps):
    """(workload, library) -> [float values over repetitions], in first-seen order."""
    out = OrderedDict()
    for r in reps:
        for key, v in r.items():
            out.setdefault(key, [])
            if isinstance(v, float):
                out[key].append(v)
    return out


def plot_peers(src, dst, title, columns):
    meta, reps, _, _, units = parse(src)
    vals = values_by(reps)
    workloads = list(OrderedDict.fromkeys(wl for wl, _ in vals))
    if not workloads:
        sys.exit(f"plot.py: no measurements in {src}")
    rows = math.ceil(len(workloads) / columns)
    libs_per = {wl: [lib for (w, lib) in vals if w == wl] for wl in workloads}
    height = sum(max(len(libs_per[wl]) for wl in workloads[i * columns:(i + 1) * columns]) * 0.32 + 1.3
                 for i in range(rows))
    fig, axes = plt.subplots(rows, columns, figsize=(7.2 * columns, height), squeeze=False)
    for ax, wl in zip(axes.flat, workloads):
        libs = libs_per[wl]
        unit = units.get(wl, "")
        med, lo, hi, labels = [], [], [], []
        for lib in libs:
            xs = vals[(wl, lib)]
            m = statistics.median(xs) if xs else float("nan")
            med.append(m)
            lo.append(m - min(xs) if xs else 0)
            hi.append(max(xs) - m if xs else 0)
            labels.append(lib if xs else f"{lib} (STALL)")
        y = list(range(len(libs)))[::-1]
        colours = [STATICRT_COLOUR if lib.startswith("staticrt") else PEER_COLOUR for lib in libs]
        finite = [v for v in med if v == v and v > 0]
        ax.barh(y, [v if v == v else 0 for v in med], xerr=[lo, hi], color=colours,
                error_kw={"elinewidth": 1, "capsize": 2, "ecolor": "#333333"})
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=8)
        if finite and max(finite) / min(finite) > 30:
            ax.set_xscale("log")
        else:
            ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        better = "lower is better" if unit in LOWER_IS_BETTER_UNITS else "higher is better"
        ax.set_title(f"{wl}  ({better})", fontsize=9)
        ax.set_xlabel(unit, fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", which="major", linestyle=":", linewidth=0.6)
        ax.set_axisbelow(True)
    for ax in list(axes.flat)[len(workloads):]:
        ax.axis("off")
    sub = f"{meta.get('cpu', '?')}; {len(reps)} repetitions; {meta.get('date', '?')}; bars: median, whiskers: min..max"
    fig.suptitle(f"{title}\n{sub}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(dst, dpi=110)
    print(f"plot.py: wrote {dst} ({len(workloads)} workloads)")


def threads_of(label):
    """'w8' / 't16' -> 8 / 16 threads; '4p4c' -> 4 (producers = consumers)."""
    m = re.fullmatch(r"(?:w|t)?(\d+)(?:p\d+c)?", label)
    return int(m.group(1)) if m else None


def scaling_families(src):
    meta, reps, _, _, units = parse(src)
    families = OrderedDict()  # family -> {lib -> [(threads, median)]}
    for (wl, lib), xs in values_by(reps).items():
        m = re.match(r"(scale_.+)_((?:w|t)?\d+(?:p\d+c)?)$", wl)
        if not m:
            continue
        fam, n = m.group(1), threads_of(m.group(2))
        pts = families.setdefault(fam, OrderedDict()).setdefault(lib, [])
        if xs:
            pts.append((n, statistics.median(xs)))
        families[fam].setdefault("__unit__", units.get(wl, ""))
    return meta, reps, families


def plot_scaling(src, dst, title, columns, also=()):
    meta, reps, families = scaling_families(src)
    for later in also:  # a family measured again in a later run is drawn from that run
        _, _, fams = scaling_families(later)
        families.update(fams)
    if not families:
        sys.exit(f"plot.py: no scale_* workloads in {src}")
    rows = math.ceil(len(families) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(6.0 * columns, 4.2 * rows), squeeze=False)
    for ax, (fam, libs) in zip(axes.flat, families.items()):
        unit = libs.pop("__unit__")
        all_y = []
        for lib, pts in libs.items():
            pts.sort()
            if not pts:
                continue
            xs, ys = zip(*pts)
            all_y += ys
            is_ours = lib.startswith("staticrt")
            ax.plot(xs, ys, marker="o", markersize=4, linewidth=2.2 if is_ours else 1.3,
                    linestyle="-" if is_ours else "--", label=lib)
        ax.set_xscale("log", base=2)
        ticks = sorted({n for pts in libs.values() for n, _ in pts})
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(t) for t in ticks])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        if all_y and max(all_y) / max(min(all_y), 1e-12) > 30:
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
            ax.yaxis.set_major_formatter(EngFormatter(sep=""))
        xlabel = "producers = consumers (threads = 2x)" if "mpmc" in fam else "threads (workers)"
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_ylabel(f"{unit} (median)", fontsize=9)
        ax.set_title(fam.replace("scale_", ""), fontsize=10)
        ax.grid(True, which="major", linestyle=":", linewidth=0.6)
        ax.legend(fontsize=7, loc="best")
    for ax in list(axes.flat)[len(families):]:
        ax.axis("off")
    sub = f"{meta.get('cpu', '?')}; {len(reps)} repetitions; {meta.get('date', '?')}; higher is better"
    if also:
        sub = f"{meta.get('cpu', '?')}; {1 + len(also)} runs from {meta.get('date', '?')}, each panel from the latest run that measured it; higher is better"
    fig.suptitle(f"{title}\n{sub}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(dst, dpi=110)
    print(f"plot.py: wrote {dst} ({len(families)} workload families)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="kind", required=True)
    for kind, default_title in (("peers", "staticrt against peer libraries"),
                                ("scaling", "throughput against threads")):
        p = sub.add_parser(kind, help=f"{kind} plot")
        p.add_argument("input", help="staticrt-bench-peers output (bench/run_peers.sh / run_scaling.sh)")
        p.add_argument("output", help="image to write (.png, .svg or .pdf)")
        p.add_argument("--title", default=default_title, help=f"figure title (default: {default_title!r})")
        if kind == "scaling":
            p.add_argument("--also", action="append", default=[], metavar="LATER",
                           help="a later --scaling run whose families replace the input's")
        p.add_argument("--columns", type=int, default=2 if kind == "scaling" else 3,
                       help="panels per row")
    args = ap.parse_args()
    if args.columns < 1:
        ap.error("--columns must be at least 1")
    if args.kind == "peers":
        plot_peers(args.input, args.output, args.title, args.columns)
    else:
        plot_scaling(args.input, args.output, args.title, args.columns, args.also)
    return 0


if __name__ == "__main__":
    sys.exit(main())
