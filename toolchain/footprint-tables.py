#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerates the size tables of docs/footprint.md (and the README headline) from the build.

For each preset (default: release aarch64 armhf mingw) it builds footprint_sizes,
footprint_objects, squares, firmware_app and firmware_app_std, runs `ctest -V` on
example.footprint_sizes (sizeof and the footprint manifest, run on the target: qemu / wine)
and on the footprint.* tests (section sizes from the toolchain's objdump -h), and rewrites
the text between the "generated:footprint" markers. Nothing in the tables is typed by hand.

    toolchain/footprint-tables.py                  # all four targets
    toolchain/footprint-tables.py --presets release --check   # exit 1 when docs are stale
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = {"release": "x86-64 Linux", "aarch64": "aarch64 Linux", "armhf": "armhf Linux", "mingw": "x86-64 Windows (mingw)"}
PROGRAMS = ["squares", "footprint_objects", "firmware_app", "firmware_app_std"]


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, text=True, capture_output=True, **kw)


def collect(preset, jobs):
    build = os.path.join(ROOT, "build", preset)
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        r = run(["cmake", "--preset", preset])
        if r.returncode != 0:
            sys.exit(f"configure {preset} failed:\n{r.stdout}{r.stderr}")
    r = run(["cmake", "--build", build, "-j", str(jobs), "--target", "footprint_sizes", *PROGRAMS])
    if r.returncode != 0:
        sys.exit(f"build {preset} failed:\n{r.stdout[-4000:]}{r.stderr[-4000:]}")
    r = run(["ctest", "--test-dir", build, "-V", "-R", r"^(example\.footprint_sizes|footprint\.sections|footprint\..*_sizes)$"])
    out = r.stdout + r.stderr
    if r.returncode != 0:
        sys.exit(f"ctest {preset} failed:\n{out[-4000:]}")
    sizes, sections, target = {}, {}, ""
    for line in out.splitlines():
        m = re.search(r"staticrt\.sizeof\|([^|]+)\|(\d+)\|(\d+)\|(\d+)\|(\d+)", line)
        if m:
            sizes[m.group(1)] = tuple(int(m.group(i)) for i in range(2, 6))
        m = re.search(r"staticrt\.target\|(.*)$", line)
        if m:
            target = m.group(1).strip()
        m = re.search(r"staticrt\.sections (\S+) text=(\d+) data=(\d+) bss=(\d+) data_sections=(\d+)", line)
        if m:
            name = re.sub(r"\.exe$", "", m.group(1))
            sections[name] = tuple(int(m.group(i)) for i in range(2, 6))
    if not sizes:
        sys.exit(f"{preset}: example.footprint_sizes printed no sizes:\n{out[-4000:]}")
    return {"sizes": sizes, "sections": sections, "target": target}


def n(v):
    return f"{v:,}"


def render(data, presets):
    cols = [TARGETS.get(p, p) for p in presets]
    lines = ["| target | pointer, cache line, minimum stack, thread stacks |", "|---|---|"]
    for p in presets:
        lines.append(f"| {TARGETS.get(p, p)} | {data[p]['target']} |")
    lines += ["", "`sizeof` (bytes; a constinit global adds exactly this to `.bss`):", ""]
    lines.append("| type | " + " | ".join(cols) + " |")
    lines.append("|---|" + "---:|" * len(cols))
    names = list(data[presets[0]]["sizes"].keys())
    for name in names:
        lines.append(f"| `{name}` | " + " | ".join(n(data[p]["sizes"].get(name, (0,))[0]) for p in presets) + " |")
    extra = [name for name in names if any(data[p]["sizes"][name][2] or data[p]["sizes"][name][3] for p in presets)]
    if extra:
        lines += ["", "Outside the object (`footprint_of<T>`): shared segment bytes it creates / thread stacks "
                  "the OS reserves (Windows):", ""]
        lines.append("| type | " + " | ".join(cols) + " |")
        lines.append("|---|" + "---:|" * len(cols))
        for name in extra:
            cells = []
            for p in presets:
                s = data[p]["sizes"][name]
                cells.append(f"{n(s[2])} / {n(s[3])}")
            lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += ["", "Section sizes of whole programs (objdump -h of each toolchain, classified as `size` does; "
              "`.data*` is the part in sections named .data):", ""]
    lines.append("| program | target | text | data (of it .data*) | bss |")
    lines.append("|---|---|---:|---:|---:|")
    for prog in PROGRAMS:
        for p in presets:
            s = data[p]["sections"].get(prog)
            if s:
                lines.append(f"| `{prog}` | {TARGETS.get(p, p)} | {n(s[0])} | {n(s[1])} ({n(s[3])}) | {n(s[2])} |")
    return "\n".join(lines) + "\n"


def headline(data, presets):
    p = presets[0]
    sq = data[p]["sections"].get("squares")
    fw = data[p]["sections"].get("firmware_app")
    fs = data[p]["sections"].get("firmware_app_std")
    parts = []
    if sq:
        parts.append(f"the README example's `ThreadPool<4>` is {n(data[p]['sizes']['ThreadPool<4>'][0])} bytes of "
                     f"`.bss` and {n(sq[1])} bytes of initialised data in the whole program")
    if fw and fs:
        parts.append(f"`examples/firmware_app` (static, no exceptions/RTTI) is {n(fw[0])} bytes of text against "
                     f"{n(fs[0])} for the same app on std::thread/std::function/std::vector")
    return f"**Footprint** ({TARGETS.get(p, p)}): " + "; ".join(parts) + ". Every target: [docs/footprint.md](docs/footprint.md).\n"


def replace(path, marker, text, check):
    with open(path, encoding="utf-8") as f:
        old = f.read()
    begin, end = f"<!-- generated:{marker} begin -->\n", f"<!-- generated:{marker} end -->"
    if begin not in old or end not in old:
        sys.exit(f"{path}: markers '{begin.strip()}' / '{end}' not found")
    head, rest = old.split(begin, 1)
    _, tail = rest.split(end, 1)
    new = head + begin + text + end + tail
    if check:
        return new == old
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 when the docs differ")
    args = ap.parse_args()
    data = {p: collect(p, args.jobs) for p in args.presets}
    ok = replace(os.path.join(ROOT, "docs", "footprint.md"), "footprint", render(data, args.presets), args.check)
    ok = replace(os.path.join(ROOT, "README.md"), "footprint-headline", headline(data, args.presets), args.check) and ok
    if args.check and not ok:
        sys.exit("docs/footprint.md or README.md is stale: run toolchain/footprint-tables.py")
    print("footprint tables " + ("up to date" if args.check else "written") + " for " + ", ".join(args.presets))


if __name__ == "__main__":
    main()
