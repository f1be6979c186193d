"""--repeat N: every selected case runs N times (the plugin parametrizes
each case with a hidden repetition number, so xdist spreads the repetitions
like any case).  Here the N records of a case become one, and the cases
whose verdict was not the same every time are found, with the baseline
entry that would accept them.

Design note: the record kept for a case is its first non-PASS repetition
(the evidence of a failure is what a person needs), else the first; it
gains "repeat": {"n", "verdicts": {verdict: count}, "modes", "signatures"}.
"""
from . import baseline, baseline_write


def collapse(records):
    """(one record per case, unstable case records)."""
    by = {}
    order = []
    for r in records:
        if r["case_id"] not in by:
            order.append(r["case_id"])
        by.setdefault(r["case_id"], []).append(r)
    out, unstable = [], []
    for cid in order:
        rs = by[cid]
        keep = dict(next((r for r in rs if r["verdict"] != "PASS"), rs[0]))
        if len(rs) > 1:
            counts = {}
            for r in rs:
                counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
            keep["repeat"] = {"n": len(rs), "verdicts": counts,
                              "modes": sorted({r["mode"] for r in rs if r.get("mode")}),
                              "signatures": sorted({r["signature"] for r in rs if r.get("signature")})}
            if len(counts) > 1:
                unstable.append(keep)
        out.append(keep)
    return out, unstable


def entry_text(c, profile):
    """The baseline entry (one YAML line) that accepts an unstable case."""
    rep = c["repeat"]
    verdicts = sorted(rep["verdicts"], key=lambda v: (v == "PASS", v))
    e = {"case_id": c["case_id"], "verdict": verdicts}
    if rep["modes"]:
        e["mode"] = rep["modes"][0] if len(rep["modes"]) == 1 else rep["modes"]
    if rep["signatures"]:
        e["signature"] = rep["signatures"][0] if len(rep["signatures"]) == 1 else rep["signatures"]
    e.update({"profile": profile, "suite": "harness", "reason": baseline.PLACEHOLDER})
    return "- " + baseline_write.flow(e)

