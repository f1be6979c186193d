"""The run's memory and its scores.

state.jsonl holds one line per judged mutant, appended as soon as it is
judged, so an interrupted run resumes where it stopped: a mutant whose key
is already there is not run again.  Equivalents are a person's judgement,
kept in fixtures/mutation-equivalents.yaml and matched on the site's text
(file, the line as written, operator, replacement), not its line number.
"""
import json
import os

import yaml

SUITES = ("c", "harness")


def load_state(path, fingerprint=None):
    """The judged mutants of this state file; with a fingerprint, only those
    judged by the same suites."""
    done = {}
    if os.path.exists(path):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    # a line cut by an interrupt: that mutant runs again
                    continue
                if fingerprint is None or rec.get("fingerprint") == fingerprint:
                    done[rec["key"]] = rec
    return done


def append_state(path, record):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def load_equivalents(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    entries = data.get("equivalents") or []
    need = ("file", "context", "operator", "after", "reason")
    for i, e in enumerate(entries):
        missing = [k for k in need if not str(e.get(k, "")).strip()]
        if missing:
            raise ValueError("%s: entry %d lacks %s" % (path, i + 1, ", ".join(missing)))
    return entries


def equivalent_reason(record, equivalents):
    for e in equivalents:
        if (e["file"] == record["file"] and e["operator"] == record["operator"]
                and e["after"] == record["after"] and e["context"].strip() == record["context"]
                and e.get("function", record.get("function")) == record.get("function")):
            return e["reason"]
    return None


def score(records, equivalents):
    """Scores per suite over the killable mutants: judged, built, not
    judged equivalent.  'combined' counts a mutant killed by any suite."""
    killable = []
    for r in records:
        if r["status"] == "STILLBORN":
            continue
        reason = equivalent_reason(r, equivalents)
        if reason and r["status"] == "SURVIVED":
            r["status"] = "EQUIVALENT"
            r["equivalent_reason"] = reason
            continue
        killable.append(r)
    out = {"judged": len(records), "killable": len(killable),
           "stillborn": sum(r["status"] == "STILLBORN" for r in records),
           "equivalent": sum(r["status"] == "EQUIVALENT" for r in records)}
    suites = sorted({s for r in killable for s in r.get("suites", {})} | set(SUITES))
    for s in suites + ["combined"]:
        if s == "combined":
            k = sum(bool(r.get("killed_by")) for r in killable)
        else:
            k = sum(s in r.get("killed_by", []) for r in killable)
        out[s] = {"killed": k, "score": round(100.0 * k / len(killable), 1) if killable else None}
    return out


def likely_clauses(survivor, records):
    """Clauses whose tests killed other mutants of the same function: where
    a person should look for the check that missed this one."""
    clauses = {}
    for r in records:
        if r is survivor or r["file"] != survivor["file"] or r["function"] != survivor["function"]:
            continue
        for v in r.get("suites", {}).values():
            for c in v.get("failed", []):
                clauses[c] = clauses.get(c, 0) + 1
    return [c for c, _ in sorted(clauses.items(), key=lambda kv: (-kv[1], kv[0]))[:4]]
