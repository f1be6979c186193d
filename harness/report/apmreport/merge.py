"""`apm-report merge`: the shards of one run (harness/conform --shard K/N on
several machines) joined into the run they are parts of.

The shards must be of one implementation, suite and profile, and share no
case.  When they are shards 1..N of the same N and selected nothing else,
the merged run is whole (no "partial"): the same cases, verdicts, counts and
gate as the unsharded run.  Otherwise it stays partial, saying which shards
it has.  The gate is computed again over every case, against the baseline
the shards were gated on (or --baseline).
"""

import os

from apmsock_harness import baseline as harness_baseline

from . import ReportError


def _shard(run, path):
    part = run.get("partial") or {}
    s = part.get("shard")
    if not s:
        return None, part.get("selection")
    k, _, n = s.partition("/")
    rest = part.get("selection", "").replace("--shard %s" % s, "").strip()
    return (int(k), int(n)), rest or None


def merge(runs, paths):
    """One run from several shard runs (paths: for messages)."""
    if not runs:
        raise ReportError("merge: no run given")
    first = runs[0]
    key = (first["implementation"]["id"], first["suite"], first["profile"])
    seen = {}
    shards, rests = [], set()
    for r, p in zip(runs, paths):
        k = (r["implementation"]["id"], r["suite"], r["profile"])
        if k != key:
            raise ReportError("merge: %s is a run of %s, %s is of %s: shards of one run only"
                              % (paths[0], "-".join(key), p, "-".join(k)))
        for c in r["cases"]:
            if c["case_id"] in seen:
                raise ReportError("merge: case %s is in both %s and %s" % (c["case_id"], seen[c["case_id"]], p))
            seen[c["case_id"]] = p
        s, rest = _shard(r, p)
        shards.append(s)
        rests.add(rest)
    out = {k: v for k, v in first.items() if k not in ("cases", "gate", "partial")}
    out["cases"] = sorted((c for r in runs for c in r["cases"]), key=lambda c: c["case_id"])
    starts = [r["started"] for r in runs if r.get("started")]
    out["started"] = min(starts) if starts else None
    durs = [r["duration_s"] for r in runs if r.get("duration_s") is not None]
    out["duration_s"] = max(durs) if durs else None   # shards run side by side
    if "pytest_exit" in first:
        out["pytest_exit"] = max(r.get("pytest_exit", 0) for r in runs)
    ns = {s[1] for s in shards if s}
    whole = (None not in shards and len(ns) == 1 and sorted(s[0] for s in shards) == list(range(1, ns.pop() + 1))
             and rests == {None})
    if not whole:
        have = ", ".join("%d/%d" % s for s in shards if s) or "none"
        rest = " ".join(sorted(x for x in rests if x))
        out["partial"] = {"selection": ("shards %s %s" % (have, rest)).strip(), "tag": "merged",
                          "cases": len(out["cases"])}
    return out


def baseline_of(runs, root, given=None):
    """The baseline path to gate the merged run on, or None (empty)."""
    if given:
        return given
    paths = {(r.get("gate") or {}).get("baseline") for r in runs}
    paths.discard(None)
    if len(paths) > 1:
        raise ReportError("merge: the shards were gated on different baselines (%s); give --baseline"
                          % ", ".join(sorted(paths)))
    if not paths:
        return None
    p = paths.pop()
    return p if os.path.isabs(p) else os.path.join(root, p)


def gate(run, bpath, label=None):
    """Fill run["gate"]; return (refusal line or None, exit code)."""
    try:
        entries = harness_baseline.load(bpath) if bpath and os.path.exists(bpath) else []
    except harness_baseline.BaselineError as e:
        raise ReportError(str(e))
    refused = harness_baseline.refuse_placeholders(entries, bpath) if bpath else None
    if refused:
        return refused, harness_baseline.EXIT_USAGE
    g = harness_baseline.gate(run["cases"], entries, run["profile"], run["suite"])
    run["gate"] = {"baseline": label or bpath, "status": g["status"],
                   "differences": g["differences"], "intermittent": g["intermittent"]}
    return None, harness_baseline.EXIT[g["status"]]
