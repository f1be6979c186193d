"""Which cases a run selects, and where a partial run's files go.

Shards (--shard K/N): the cases of each family (the clause's prefix: CONN,
ARG, ...) in case-id order are dealt out in turn to the N shards, one
running count across families, so every family is split evenly over the
shards and the shards' sizes differ by at most one.  It depends only on the
case ids, so every machine of a CI matrix (and every xdist worker) computes
the same split, and the N shards together are exactly the unsharded run.

Partial runs (-k, --case, --shard, --last-failed, -x): their results never
replace the full run's file; they go to reports/partial/ under a name that
says what was selected (partial_tag), and the run says so ("partial").
"""
import glob
import hashlib
import json
import os
import re


class SelectionError(Exception):
    pass


def parse_shard(text):
    """'K/N' -> (K, N), 1 <= K <= N."""
    m = re.match(r"^\s*(\d+)\s*/\s*(\d+)\s*$", text or "")
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise SelectionError("--shard %r: expected K/N with 1 <= K <= N, e.g. 2/3" % text)
    return int(m.group(1)), int(m.group(2))


def family(case_id):
    return case_id.split("-", 1)[0]


def shard_of(case_ids, n):
    """{case_id: shard number 1..n}."""
    out, i = {}, 0
    by_family = {}
    for cid in case_ids:
        by_family.setdefault(family(cid), []).append(cid)
    for fam in sorted(by_family):
        for cid in sorted(by_family[fam]):
            out[cid] = i % n + 1
            i += 1
    return out


def _slug(text, n=40):
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.")
    if len(s) > n or s != text:
        s = "%s-%s" % (s[:n], hashlib.sha1(text.encode()).hexdigest()[:6])
    return s or hashlib.sha1(text.encode()).hexdigest()[:6]


def partial(keyword=None, cases=(), shard=None, last_failed=False, exitfirst=False):
    """None for a full run, else {"selection": text, "tag": file-name part}."""
    what, tags = [], []
    if shard:
        k, n = parse_shard(shard)
        what.append("--shard %d/%d" % (k, n))
        tags.append("shard-%dof%d" % (k, n))
    if last_failed:
        what.append("--last-failed")
        tags.append("last-failed")
    elif cases:
        what.append(" ".join("--case %s" % c for c in cases))
        tags.append("case-" + _slug(cases[0] if len(cases) == 1 else " ".join(cases)))
    if keyword:
        what.append("-k %s" % keyword)
        tags.append("k-" + _slug(keyword))
    if exitfirst:
        what.append("-x")
        tags.append("x")
    if not what:
        return None
    return {"selection": " ".join(what), "tag": "+".join(tags)}


def last_results(reports, impl, profile):
    """The newest results file of impl/profile, full or partial, or None."""
    paths = [os.path.join(reports, "runs", "%s-harness-%s.json" % (impl, profile))]
    paths += glob.glob(os.path.join(reports, "partial", "%s-harness-%s.*.json" % (impl, profile)))
    paths = [p for p in paths if os.path.isfile(p)]
    return max(paths, key=os.path.getmtime) if paths else None


def failed_cases(path):
    """The cases that failed in a results file: those the gate flagged
    (a regression or an unexpected pass), and every FAIL or ERROR when
    the file holds no gate."""
    try:
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
    except (OSError, ValueError) as e:
        raise SelectionError("--last-failed: cannot read %s: %s" % (path, e))
    gate = run.get("gate")
    if gate is not None:
        ids = [d["case_id"] for d in gate.get("differences") or []]
    else:
        ids = [c["case_id"] for c in run.get("cases") or [] if c.get("verdict") in ("FAIL", "ERROR")]
    return sorted(set(ids))
