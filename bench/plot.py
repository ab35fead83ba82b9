#!/usr/bin/env python3
"""Plot staticrt-bench-peers output as an SVG (hand-written SVG: no matplotlib needed).

usage: bench/plot.py peers.txt peers.svg

One panel per workload: a horizontal bar per library, the bar is the median value over
repetitions, thin ticks mark each repetition's value (the spread shows the machine's noise).
staticrt bars are drawn dark, peers light. STALL/ERROR runs are listed next to the name.
"""
import math
import statistics
import sys
from collections import OrderedDict
from xml.sax.saxutils import escape


def parse(path):
    data = OrderedDict()  # workload -> OrderedDict(library -> {"unit", "values", "bad"})
    probes = []
    ratios = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0].startswith("#") or parts[0] == "rep":
                continue
            if parts[0] == "probe" and len(parts) >= 3:
                try:
                    probes.append(float(parts[2]))
                except ValueError:
                    pass
                continue
            if parts[0] == "ratio":
                ratios.append(parts[1:])
                continue
            if len(parts) != 4:
                continue
            wl, lib, val, unit = parts
            entry = data.setdefault(wl, OrderedDict()).setdefault(lib, {"unit": unit, "values": [], "bad": []})
            try:
                entry["values"].append(float(val))
            except ValueError:
                entry["bad"].append(val)
    return data, probes, ratios


def fmt(v, unit):
    if unit == "ns":
        return f"{v:.0f} ns" if v < 1e4 else f"{v / 1e3:.0f} us"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:.1f}{suffix} {unit}"
    return f"{v:.0f} {unit}"


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    data, probes, _ = parse(sys.argv[1])
    width, left, right, bar_h, gap, title_h = 900, 190, 130, 16, 4, 34
    plot_w = width - left - right
    out = []
    y = 40
    for wl, libs in data.items():
        unit = next(iter(libs.values()))["unit"]
        vals = [v for e in libs.values() for v in e["values"]]
        vmax = max(vals) if vals else 1.0
        log = unit == "ns"  # latencies span 60 ns .. ms: log scale
        vmin_log = math.log10(max(min(vals), 1e-9)) - 0.3 if (vals and log) else 0

        def scale(v):
            if not log:
                return plot_w * v / vmax if vmax > 0 else 0
            lo, hi = vmin_log, math.log10(vmax) + 0.05
            return plot_w * (math.log10(max(v, 1e-9)) - lo) / (hi - lo)

        better = "lower is better, log scale" if log else "higher is better"
        out.append(f'<text x="10" y="{y + 18}" font-size="15" font-weight="bold">{escape(wl)} '
                   f'<tspan font-weight="normal" font-size="12">({escape(unit)}, median of reps, {better})</tspan></text>')
        y += title_h
        for lib, e in libs.items():
            ours = lib.startswith("staticrt")
            color = "#1f4e79" if ours else "#9dc3e6"
            label = lib + (f" [{','.join(sorted(set(e['bad'])))} x{len(e['bad'])}]" if e["bad"] else "")
            out.append(f'<text x="{left - 6}" y="{y + bar_h - 4}" font-size="12" text-anchor="end">{escape(label)}</text>')
            if e["values"]:
                med = statistics.median(e["values"])
                w = max(scale(med), 1)
                out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
                for v in e["values"]:
                    x = left + scale(v)
                    out.append(f'<line x1="{x:.1f}" y1="{y - 1}" x2="{x:.1f}" y2="{y + bar_h + 1}" stroke="#c00000" stroke-width="1"/>')
                out.append(f'<text x="{left + w + 6:.1f}" y="{y + bar_h - 4}" font-size="11">{escape(fmt(med, unit))}</text>')
            y += bar_h + gap
        y += 14
    probe_txt = ""
    if probes:
        probe_txt = (f"raw atomic round-trip probe per rep: {', '.join(f'{p:.0f}' for p in probes)} ns "
                     f"(median {statistics.median(probes):.0f} ns)")
    header = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y + 30}" '
              f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>'
              f'<text x="10" y="22" font-size="16" font-weight="bold">staticrt vs peers</text>'
              f'<text x="{width - 10}" y="22" font-size="11" text-anchor="end">{escape(probe_txt)}</text>')
    legend = (f'<text x="10" y="{y + 15}" font-size="11">dark: staticrt, light: peers; red ticks: each repetition; '
              f'[STALL xN]: runs killed by the watchdog</text>')
    with open(sys.argv[2], "w") as f:
        f.write(header + "\n" + "\n".join(out) + "\n" + legend + "\n</svg>\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
