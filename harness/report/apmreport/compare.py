"""Compare two results.json: new failures, new passes, changed modes, added and removed cases."""

from .verdicts import SEVERITY


def _index(doc):
    out = {}
    for r in doc["runs"]:
        for c in r["cases"]:
            out[(r["implementation"]["id"], r["suite"], r["profile"], c["case_id"])] = c
    return out


def _shape(c):
    return (c["verdict"], c.get("mode"), c.get("signal"))


def compare(old, new):
    o, n = _index(old), _index(new)
    res = {"new_failures": [], "new_passes": [], "changed": [], "added": [], "removed": []}
    for k in sorted(set(o) | set(n)):
        a, b = o.get(k), n.get(k)
        if a is None:
            res["added"].append((k, None, b))
            if b["verdict"] not in ("PASS", "SKIP"):
                res["new_failures"].append((k, None, b))
        elif b is None:
            res["removed"].append((k, a, None))
        elif a["verdict"] == "PASS" and b["verdict"] != "PASS":
            res["new_failures"].append((k, a, b))
        elif a["verdict"] != "PASS" and b["verdict"] == "PASS":
            res["new_passes"].append((k, a, b))
        elif _shape(a) != _shape(b):
            res["changed"].append((k, a, b))
    return res


def _fmt(c):
    if c is None:
        return "absent"
    s = c["verdict"]
    if c.get("mode"):
        s += "/" + c["mode"]
    if c.get("signal"):
        s += "/" + c["signal"]
    return s


def summary_text(res):
    return ("%d new failure(s), %d new pass(es), %d changed, %d added, %d removed"
            % tuple(len(res[k]) for k in ("new_failures", "new_passes", "changed", "added", "removed")))


def text(res, old_name="old"):
    lines = ["compared with %s: %s" % (old_name, summary_text(res))]
    for key, title in (("new_failures", "NEW FAILURES"), ("new_passes", "NEW PASSES"),
                       ("changed", "CHANGED VERDICT OR MODE"), ("removed", "REMOVED")):
        if res[key]:
            lines.append(title + ":")
            for k, a, b in res[key]:
                lines.append("  %s %s %s %s: %s -> %s" % (k[0], k[1], k[2], k[3], _fmt(a), _fmt(b)))
    return "\n".join(lines)


def worsened(res):
    """True when something got worse (new failure or a changed case now more severe)."""
    return bool(res["new_failures"]) or any(SEVERITY[b["verdict"]] > SEVERITY[a["verdict"]]
                                            for _, a, b in res["changed"])
