"""fixtures/peers.yaml: the peer suites' tests mapped to harness cases (read by the
catalogue lint and the report's peer-suites page)."""
import glob
import os
import re

import yaml

DEF_RE = re.compile(r"^def\s+(test_\w+)\s*\(", re.M)
# An exclusion says why no case covers the test: out of the documents' (or the
# protocol's) reach, or in scope but without a case yet (an honest gap).
EXCLUSION_PREFIXES = ("out of scope: ", "not covered yet: ")


def default_path(root):
    return os.path.join(root, "fixtures", "peers.yaml")


def harness_cases(root):
    names = set()
    for path in glob.glob(os.path.join(root, "harness", "cases", "*.py")):
        with open(path, encoding="utf-8") as f:
            names.update(DEF_RE.findall(f.read()))
    return names


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def check(root, path=None):
    """Problems of the peer map, one line each (empty: fine)."""
    path = path or default_path(root)
    if not os.path.exists(path):
        return []
    doc = load(path)
    suites = doc.get("suites") or {}
    known = harness_cases(root)
    problems, seen = [], set()
    for i, e in enumerate(doc.get("peers") or []):
        where = "fixtures/peers.yaml peers[%d] (%s)" % (i, e.get("test") if isinstance(e, dict) else e)
        if not isinstance(e, dict) or not all(isinstance(e.get(k), str) and e[k] for k in ("suite", "file", "test")):
            problems.append("%s: an entry needs suite, file and test" % where)
            continue
        if e["suite"] not in suites:
            problems.append("%s: suite %r is not listed under suites" % (where, e["suite"]))
        key = (e["suite"], e["file"], e["test"])
        if key in seen:
            problems.append("%s: listed twice" % where)
        seen.add(key)
        cases, excluded = e.get("cases"), e.get("excluded")
        if bool(cases) == bool(excluded):
            problems.append("%s: give either cases or excluded" % where)
        if excluded is not None and not str(excluded).startswith(EXCLUSION_PREFIXES):
            problems.append("%s: excluded must read \"out of scope: why\" or \"not covered yet: what\"" % where)
        for c in cases or []:
            if c not in known:
                problems.append("%s: case %s does not exist in harness/cases" % (where, c))
    return problems


def summary(root, path=None):
    doc = load(path or default_path(root))
    out = {}
    for e in doc.get("peers") or []:
        s = out.setdefault(e["suite"], {"tests": 0, "covered": 0, "excluded": 0})
        s["tests"] += 1
        s["covered" if e.get("cases") else "excluded"] += 1
    return out
