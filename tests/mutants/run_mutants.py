#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Applies each mutant of tests/mutants/mutants.txt to a scratch copy of the repository, builds
the test suites it names in ONE scratch build directory (incremental; ccache makes the restore
cheap), runs them with a time bound, and prints a table of which tests catch each mutant.

Not part of toolchain/test-all.sh (time): run before each release and keep the table in
docs/testing.md.

  nice python3 tests/mutants/run_mutants.py [id-prefix ...] [--scale 0.2] [--timeout 300]

Result per mutant:
  caught        at least one test failed on an assertion, or (build: tsan) ThreadSanitizer
                reported (names listed)
  timeout-only  nothing failed on an assertion, but a run hit the time bound or a watchdog: NOT
                good enough, strengthen the tests
  survived      every test passed: strengthen the tests
  stale         the pattern is no longer in the file (the code moved on): update the mutant
  no-compile    the mutant does not build (not a useful mutant)
Exit status 0 only when every mutant is caught.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRATCH = os.path.join(ROOT, "build", "mutants")
SUITES = {
    "host": "staticrt_host_tests",
    "stress": "staticrt_stress_tests",
    "noheap": "staticrt_noheap_tests",
    "target": "staticrt_target_tests",
    "dsched": "staticrt_dsched_tests",
    "relacy": "staticrt_relacy_tests",
}


def parse_mutants(path):
    mutants, cur, section = [], None, None
    for raw in open(path, encoding="utf-8").read().split("\n"):
        if raw.startswith("=== "):
            if cur:
                mutants.append(cur)
            cur = {"id": raw[4:].strip(), "search": [], "replace": [], "run": [], "build": "release"}
            section = None
        elif cur is None:
            continue
        elif raw == "--- search":
            section = "search"
        elif raw == "--- replace":
            section = "replace"
        elif section:
            cur[section].append(raw)
        elif raw.startswith("file: "):
            cur["file"] = raw[6:].strip()
        elif raw.startswith("why: "):
            cur["why"] = raw[5:].strip()
        elif raw.startswith("run: "):
            cur["run"] = raw[5:].split()
        elif raw.startswith("build: "):
            cur["build"] = raw[7:].strip()
    if cur:
        mutants.append(cur)
    for m in mutants:
        for k in ("search", "replace"):
            while m[k] and m[k][-1] == "":
                m[k].pop()
        m["search"] = "\n".join(m["search"]) + "\n"
        m["replace"] = "\n".join(m["replace"]) + ("\n" if m["replace"] else "")
    return mutants


def sh(cmd, timeout=None, env=None, cwd=None):
    """Runs cmd in its own process group; on the time bound the whole group is killed (death-test
    children and spawned processes too) and the output so far is returned."""
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         errors="replace", start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out, False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = p.communicate()
        return 124, out or "", True


def copy_tree():
    src = os.path.join(SCRATCH, "src")
    os.makedirs(src, exist_ok=True)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, stdout=subprocess.PIPE,
                           text=True, check=True).stdout.split("\n")
    for f in files:
        if not f or f.startswith("build/"):
            continue
        a, b = os.path.join(ROOT, f), os.path.join(src, f)
        if not os.path.isfile(a):
            continue
        os.makedirs(os.path.dirname(b), exist_ok=True)
        if not os.path.exists(b) or open(a, "rb").read() != open(b, "rb").read():
            shutil.copy2(a, b)
    return src


def configure(src, kind):
    bdir = os.path.join(SCRATCH, kind)
    if os.path.exists(os.path.join(bdir, "build.ninja")):
        return bdir
    args = ["cmake", "-S", src, "-B", bdir, "-G", "Ninja", "-DSTATICRT_BUILD_TESTS=ON", "-DSTATICRT_BUILD_EXAMPLES=OFF",
            "-DSTATICRT_BUILD_BENCH=OFF", "-DSTATICRT_WERROR=OFF"]
    if kind == "tsan":
        args += ["-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DCMAKE_CXX_COMPILER=clang++-14", "-DSTATICRT_SANITIZE=thread",
                 "-DCMAKE_CXX_FLAGS=-fsanitize=thread -fno-omit-frame-pointer", "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread"]
    else:
        args += ["-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_CXX_COMPILER=g++"]
    rc, out, _ = sh(args)
    if rc != 0:
        sys.exit("configure failed:\n" + out[-3000:])
    return bdir


def failing_tests(out):
    names = set()
    running = None
    for line in out.split("\n"):
        m = re.match(r"^\[  FAILED  \] (\S+)", line)
        if m and not re.match(r"^\d+$", m.group(1)):
            names.add(m.group(1).rstrip(","))
        m = re.match(r"^\[ RUN      \] (\S+)", line)
        if m:
            running = m.group(1)
        elif running and re.search(r":\d+: Failure$", line):
            names.add(running)  # a failed assertion, also when the test then crashed or hung
    case = None
    for line in out.split("\n"):
        m = re.match(r"^TEST CASE:\s+(.*)$", line)
        if m:
            case = m.group(1).strip()
        elif case and (": ERROR: " in line or ": FATAL ERROR: " in line):
            names.add("target: " + case)
    return names


def run_specs(bdir, specs, scale, timeout):
    env = dict(os.environ, STATICRT_STRESS_SCALE=str(scale), TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1")
    failed, timed_out, crashed = set(), False, False
    for spec in specs:
        suite, _, flt = spec.partition(":")
        exe = os.path.join(bdir, "tests", SUITES[suite])
        if suite == "target":
            cmd = [exe, "--no-intro=true", "--duration=false"] + (["-tc=" + flt] if flt else [])
        else:
            cmd = [exe] + (["--gtest_filter=" + flt] if flt else [])  # [ RUN ] lines name a test that dies
        if shutil.which("stdbuf"):  # line-buffered: a run killed at the time bound keeps its output
            cmd = ["stdbuf", "-oL", "-eL"] + cmd
        rc, out, to = sh(cmd, timeout=timeout, env=env, cwd=bdir)
        names = failing_tests(out)
        # A sanitizer report is a failed check (the tsan preset halts on the first one).
        for kind in sorted(set(re.findall(r"WARNING: ThreadSanitizer: ([a-z -]+?)(?: \(|$)", out, re.M))):
            names.add(f"{suite}: ThreadSanitizer {kind.strip()}")
        failed |= names
        if to or "watchdog" in out.lower() and not names:
            timed_out = True
        if rc != 0 and not names and not to:
            crashed = True
    return failed, timed_out, crashed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefixes", nargs="*", help="run only mutants whose id starts with one of these")
    ap.add_argument("--scale", type=float, default=0.2, help="STATICRT_STRESS_SCALE for the runs (default 0.2)")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per suite run (default 300)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--in-tree", metavar="BUILD_DIR",
                    help="mutate the checkout itself (each file restored after its mutant) and build in this "
                         "already configured build directory of it (e.g. build/release, build/tsan for build: tsan "
                         "mutants): no scratch copy, no second full build. Do not edit the checkout meanwhile.")
    a = ap.parse_args()
    mutants = parse_mutants(os.path.join(ROOT, "tests", "mutants", "mutants.txt"))
    if a.prefixes:
        mutants = [m for m in mutants if any(m["id"].startswith(p) for p in a.prefixes)]
    if a.list:
        for m in mutants:
            print(f"{m['id']:34} {m['file']}: {m['why']}")
        return 0
    src = ROOT if a.in_tree else copy_tree()
    rows, t_all = [], time.time()
    baseline_done = set()
    for m in mutants:
        t0 = time.time()
        bdir = os.path.abspath(a.in_tree) if a.in_tree else configure(src, m["build"])
        targets = sorted({SUITES[s.partition(":")[0]] for s in m["run"]})
        if m["build"] not in baseline_done:  # the unmutated tree must build first
            needed = sorted({SUITES[s.partition(":")[0]] for x in mutants if x["build"] == m["build"] for s in x["run"]})
            rc, out, _ = sh(["cmake", "--build", bdir, "-j2", "--target"] + needed)
            if rc != 0:
                sys.exit("the unmutated tree does not build:\n" + out[-3000:])
            baseline_done.add(m["build"])
        path = os.path.join(src, m["file"])
        pristine = open(os.path.join(ROOT, m["file"]), encoding="utf-8").read()
        count = pristine.count(m["search"])
        if count != 1:
            rows.append((m, "stale", f"pattern found {count} times", 0))
            print(f"[mutants] {m['id']}: stale ({count} matches)", flush=True)
            continue
        open(path, "w", encoding="utf-8").write(pristine.replace(m["search"], m["replace"]))
        try:
            rc, out, _ = sh(["cmake", "--build", bdir, "-j2", "--target"] + targets)
            if rc != 0:
                rows.append((m, "no-compile", re.findall(r"error: .*", out)[:1], time.time() - t0))
                continue
            failed, timed_out, crashed = run_specs(bdir, m["run"], a.scale, a.timeout)
            if failed:
                status = "caught"
            elif timed_out:
                status = "timeout-only"
            elif crashed:
                status = "caught (crash)"
            else:
                status = "survived"
            rows.append((m, status, sorted(failed), time.time() - t0))
            print(f"[mutants] {m['id']}: {status} {sorted(failed)[:6]} ({time.time() - t0:.0f} s)", flush=True)
        finally:
            open(path, "w", encoding="utf-8").write(pristine)
    # restore the scratch build to the unmutated tree
    for kind in baseline_done:
        needed = sorted({SUITES[s.partition(":")[0]] for x in mutants if x["build"] == kind for s in x["run"]})
        sh(["cmake", "--build", os.path.abspath(a.in_tree) if a.in_tree else os.path.join(SCRATCH, kind), "-j2",
            "--target"] + needed)
    print()
    print("| mutant | file | what it breaks | result | caught by |")
    print("|---|---|---|---|---|")
    for m, status, by, _ in rows:
        shown = ", ".join(by[:4]) + (f" (+{len(by) - 4} more)" if len(by) > 4 else "") if isinstance(by, list) else by
        print(f"| {m['id']} | {m['file'].split('/')[-1]} | {m['why']} | {status} | {shown} |")
    print(f"\n{len(rows)} mutants, {sum(1 for r in rows if r[1] == 'caught')} caught, "
          f"{time.time() - t_all:.0f} s")
    return 0 if all(r[1] == "caught" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
