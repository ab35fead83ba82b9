#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tables of the scaling study for docs/SCALING.md (from bench/run_scaling.sh output).

  bench/scaling_report.py [--scaling-also LATER.txt] SCALING.txt [QUEUES2.txt] [AB.txt] DOC.md
  e.g. bench/scaling_report.py docs/bench/scaling-16core.txt docs/bench/queues2-16core.txt \
       docs/bench/ab-16core.txt docs/bench/SCALING.md
The line chart of the same data: bench/plot.py scaling SCALING.txt docs/bench/scaling.png

Rewrites the part of DOC.md between the lines '<!-- scaling tables: begin -->' and
'<!-- scaling tables: end -->' (the prose around them is kept):
  - one table per workload family of SCALING.txt (staticrt-bench-peers --scaling): a row per
    thread count, a column per library (median over repetitions; STALL when no repetition
    finished), and the median same-repetition ratio of staticrt to the best peer that finished;
  - QUEUES2.txt (the 2-core queue workloads on cores 0,1 of the same machine): median per
    library and staticrt's median same-repetition ratio to each peer;
  - AB.txt (sections '### VARIANT rep N KIND' of the same program's output): median per
    (workload, library) for each variant.
"""
import argparse
import os
import re
import statistics
import sys
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import parse as parse_run, same_rep_ratio  # noqa: E402  (bench/report.py)

BEGIN = "<!-- scaling tables: begin -->"
END = "<!-- scaling tables: end -->"


def fmt(v, unit):
    if v is None:
        return "STALL"
    if unit == "ns":
        return "%.0f" % v
    if v >= 1e9:
        return "%.2f G" % (v / 1e9)
    if v >= 1e6:
        return "%.1f M" % (v / 1e6)
    return "%.0f k" % (v / 1e3)


def median_of(reps, key):
    xs = [r[key] for r in reps if isinstance(r.get(key), float)]
    return statistics.median(xs) if xs else None


def families_of(reps):
    families = OrderedDict()  # family -> {"rows": OrderedDict(workload -> label), "libs": [...]}
    for r in reps:
        for (wl, lib) in r:
            m = re.match(r"(scale_.+)_((?:w|t)?\d+(?:p\d+c)?)$", wl)
            fam, label = (m.group(1), m.group(2)) if m else (wl, "")
            f = families.setdefault(fam, {"rows": OrderedDict(), "libs": []})
            f["rows"][wl] = label
            if lib not in f["libs"]:
                f["libs"].append(lib)
    return families


def scaling_tables(paths):
    """One table per family; a family measured again in a later file is taken from that file."""
    runs = []
    for path in paths:
        meta, reps, _, _, units = parse_run(path)
        runs.append((path, meta, reps, units, families_of(reps)))
    owner = {fam: i for i, run in enumerate(runs) for fam in run[4]}  # a later run wins
    out = []
    for i, (path, meta, reps, units, families) in enumerate(runs):
        taken = [fam for fam in families if owner[fam] == i]
        if not taken:
            continue
        if out:
            out.append("")
        out.append("Source: `%s` — %s; %s; %d repetitions; %s%s." % (
            path, meta.get("cpu", "?"), meta.get("compiler", "?"), len(reps), meta.get("date", "?"),
            "" if len(taken) == len(families) else "; tables: " + ", ".join(taken)))
        for fam in taken:
            out += family_table(fam, families[fam], reps, units)
    return out


def family_table(fam, f, reps, units):
    out = []
    unit = units.get(next(iter(f["rows"])), "")
    ours = [lib for lib in f["libs"] if lib.startswith("staticrt")]
    # "_warm" rows (one untimed run first) are compared with each other, the rest with the rest.
    peers = [lib for lib in f["libs"] if not lib.startswith("staticrt") and not lib.endswith("_warm")]
    warm_peers = [lib for lib in f["libs"] if not lib.startswith("staticrt") and lib.endswith("_warm")]
    warm = "staticrt_warm" if "staticrt_warm" in ours and warm_peers else None
    out.append("")
    out.append("**%s** (%s, median)" % (fam, unit))
    out.append("")
    head = ["threads"] + f["libs"]
    if ours:
        head.append("%s / best peer" % ours[0])
    if warm:
        head.append("staticrt_warm / best warm peer")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for wl, label in f["rows"].items():
        row = [label] + [fmt(median_of(reps, (wl, lib)), unit) for lib in f["libs"]]
        for lib, against in ((ours[0] if ours else None, peers), (warm, warm_peers)):
            if lib is None:
                continue
            ratio, n = same_rep_ratio(reps, wl, lib, against, unit == "ns")
            row.append("%.2fx" % ratio if ratio is not None else "n/a")
        out.append("| " + " | ".join(row) + " |")
    return out


def two_core_table(path):
    meta, reps, _, _, units = parse_run(path)
    out = ["", "Source: `%s` — %s; cores 0,1; %d repetitions (counted per workload below)." % (
        path, meta.get("cpu", "?"), len(reps))]
    wls = OrderedDict()
    for r in reps:
        for (wl, lib) in r:
            wls.setdefault(wl, [])
            if lib not in wls[wl]:
                wls[wl].append(lib)
    out.append("")
    out.append("| workload | library | median | staticrt / it (median same-rep ratio) |")
    out.append("|---|---|---|---|")
    for wl, libs in wls.items():
        unit = units.get(wl, "")
        for lib in libs:
            cell = ""
            if not lib.startswith("staticrt") and (wl, "staticrt") in {k for r in reps for k in r}:
                ratio, n = same_rep_ratio(reps, wl, "staticrt", [lib], unit == "ns")
                cell = "%.2fx (%d)" % (ratio, n) if ratio is not None else "n/a"
            out.append("| %s | %s | %s %s | %s |" % (wl, lib, fmt(median_of(reps, (wl, lib)), unit), unit, cell))
    return out


def ab_table(path):
    vals = OrderedDict()
    variants = []
    cur = None
    for line in open(path):
        m = re.match(r"### (\S+) rep (\d+)", line)
        if m:
            cur = m.group(1)
            if cur not in variants:
                variants.append(cur)
            continue
        p = line.split()
        if cur and len(p) == 4 and p[0] not in ("probe", "rep") and not p[0].startswith("#"):
            d = vals.setdefault((p[0], p[1]), {})
            try:
                d.setdefault(cur, []).append(float(p[2]))
            except ValueError:
                d.setdefault(cur, [])
    out = ["", "Source: `%s` (medians; repetitions interleaved A, B4, B16)." % path, ""]
    out.append("| workload | library | " + " | ".join(variants) + " |")
    out.append("|---|---|" + "---|" * len(variants))
    for (wl, lib), d in vals.items():
        cells = []
        for v in variants:
            xs = d.get(v)
            cells.append("-" if xs is None else (fmt(statistics.median(xs), "items/s") if xs else "STALL"))
        out.append("| %s | %s | %s |" % (wl, lib, " | ".join(cells)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scaling", help="staticrt-bench-peers --scaling output")
    ap.add_argument("--scaling-also", action="append", default=[], metavar="FILE",
                    help="a later --scaling run; the families it measured replace the first file's")
    ap.add_argument("extra", nargs="*", help="2-core queue run (QUEUES2.txt) and/or A/B run (AB.txt)")
    ap.add_argument("doc", help="Markdown page whose marked block is rewritten")
    args = ap.parse_args()
    doc = args.doc
    lines = scaling_tables([args.scaling] + args.scaling_also)
    for extra in args.extra:
        text = open(extra).read()
        lines += ab_table(extra) if "### " in text else two_core_table(extra)
    old = open(doc).read()
    if BEGIN not in old or END not in old:
        print("%s: missing the marker lines %s / %s" % (doc, BEGIN, END), file=sys.stderr)
        return 1
    head, rest = old.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    open(doc, "w").write(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail)
    print("wrote %s" % doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
