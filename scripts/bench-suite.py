#!/usr/bin/python3
"""scripts/bench-suite.py: how long the suites take, as medians of whole runs.

    scripts/bench-suite.py [-n 5] [--only conformance|test|mono] [--tree DIR]

Runs each command N times (after one warm-up that is not counted) and prints
the median, min and max of its wall seconds and of its CPU seconds (user+sys
of every process it waited for: less noisy than wall on a shared machine),
with the load average before the first run.  It measures and judges nothing:
the targets (README "Speed of the suite") are read from its lines.

The commands (issue 13's targets):
  conformance  make conformance                on a built tree (<= 10 s)
  test         make test                       (<= 60 s)
  mono         make conformance IMPL=mono      (<= 30 s; needs mcs and mono)
Their own exit status is printed, not acted on (a gate of 1 is still a run).
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "conformance": ["make", "--no-print-directory", "conformance"],
    "test": ["make", "--no-print-directory", "test"],
    "mono": ["make", "--no-print-directory", "conformance", "IMPL=mono"],
}


def once(cmd, cwd, log):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with open(log, "ab") as out:
        rc = subprocess.call(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, rc


def row(name, xs):
    return "%s median %6.1f s  (min %.1f, max %.1f)" % (name, statistics.median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=5, help="counted runs per command (default 5)")
    ap.add_argument("--only", action="append", choices=sorted(COMMANDS), help="one command (repeatable)")
    ap.add_argument("--tree", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="the checkout to measure (default this one)")
    ap.add_argument("--log", default=None, help="where the commands' output goes (default build/bench-suite.log)")
    a = ap.parse_args()
    if a.n < 1:
        ap.error("-n must be 1 or more")
    log = a.log or os.path.join(a.tree, "build", "bench-suite.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    subprocess.call(["make", "--no-print-directory", "-s", "all"], cwd=a.tree, stdout=subprocess.DEVNULL)
    for name in a.only or ["conformance", "test", "mono"]:
        cmd = COMMANDS[name]
        load = os.getloadavg()[0]
        once(cmd, a.tree, log)  # warm-up: caches, built objects, the .NET/mono start-up
        walls, cpus, rcs = [], [], []
        for _ in range(a.n):
            w, c, rc = once(cmd, a.tree, log)
            walls.append(w)
            cpus.append(c)
            rcs.append(rc)
        print("%-12s %d runs, load %.1f before, exit %s" % (name, a.n, load, ",".join(map(str, rcs))))
        print("  " + row("wall", walls))
        print("  " + row("cpu ", cpus))
        sys.stdout.flush()
    print("output of the commands: %s" % log)


if __name__ == "__main__":
    main()
