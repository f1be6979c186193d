#!/usr/bin/python3
"""Proof that the harness catches deviations: run it against the reference
adapter linked with each faulty build of the reference (fixtures/faulty/) and
compare with faulty_expected.yaml.  Exit 0 when every fault is seen as
expected and nothing else fails."""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CONFORM = os.path.join(os.path.dirname(HERE), "conform")


def check(fault, adapter, expect, out_dir):
    results = os.path.join(out_dir, "faulty-%s.json" % fault)
    # One pytest process per fault (-n 0), the faults side by side: a
    # faulty run mostly waits on bounded timeouts, and xdist's workers would
    # each import and collect the suite again (CPU that make test pays).
    cmd = [sys.executable, CONFORM, "--impl", "reference", "--adapter", adapter, "-q", "-n", "0",
           "--request-timeout", "2", "--results", results, "--no-junit"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    problems = []
    if p.returncode != 1:
        problems.append("conform exited %d, expected 1 (regression)" % p.returncode)
    if not os.path.exists(results):
        return problems + ["no results file: %s" % p.stderr[-500:]]
    with open(results) as f:
        cases = json.load(f)["cases"]
    allowed = set(expect.get("must", {})) | set(expect.get("may", []))
    for clause, want in expect.get("must", {}).items():
        hits = [c for c in cases if c["clause"] == clause and c["verdict"] == want["verdict"]
                and ("mode" not in want or c["mode"] == want["mode"])]
        if not hits:
            seen = sorted({(c["verdict"], c["mode"]) for c in cases if c["clause"] == clause}, key=str)
            problems.append("%s: no case %s%s (seen: %s)" % (clause, want["verdict"],
                            "/" + want["mode"] if "mode" in want else "", seen))
    for c in cases:
        # UNSUPPORTED says what the adapter cannot express (ARG-11's DnsEndPoint),
        # which no fault in the library changes: not collateral.
        if c["verdict"] not in ("PASS", "UNSUPPORTED") and c["clause"] not in allowed:
            problems.append("collateral: %s %s/%s: %s" % (c["case_id"], c["verdict"], c["mode"], c["message"][:120]))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--expected", default=os.path.join(HERE, "faulty_expected.yaml"))
    ap.add_argument("--out", default=None)
    ap.add_argument("faults", nargs="*")
    a = ap.parse_args()
    with open(a.expected) as f:
        expected = yaml.safe_load(f)
    out = a.out or tempfile.mkdtemp(prefix="harness-faulty-")
    os.makedirs(out, exist_ok=True)
    faults = a.faults or sorted(expected)
    unknown = [f for f in faults if f not in expected]
    for f in unknown:
        print("check-faulty: %s: no expectation in %s" % (f, a.expected))

    def one(fault):
        adapter = os.path.join(a.bin_dir, "apmsock-adapter-faulty-%s" % fault)
        if not os.path.exists(adapter):
            return fault, ["adapter %s not built" % adapter]
        return fault, check(fault, adapter, expected[fault], out)

    # all at once: most of a faulty run is waiting on bounded timeouts
    with concurrent.futures.ThreadPoolExecutor(len(faults) or 1) as pool:
        done = list(pool.map(one, [f for f in faults if f in expected]))
    bad = len(unknown)
    for fault, problems in done:
        print("check-faulty: %-20s %s" % (fault, "caught as expected" if not problems else "PROBLEM"))
        for p in problems:
            print("check-faulty:   " + p)
        bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
