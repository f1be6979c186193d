"""reports/peers.html: the peer suites (fixtures/peers.yaml) against the runs.

Each test of dotnet/runtime's, Mono's and Wine's suites that fixtures/peers.yaml
lists is shown with the harness cases that cover it and, per implementation,
the verdicts of those cases (the worst first, with counts), or with the reason
it is out of scope.  A covered test whose cases did not run for an
implementation says so: "no case ran".

Cases are named in peers.yaml by harness test function.  A function named after
its clause (test_CONN_07_no_bind) stands for the case ids "CONN-07[no_bind...]";
a table-driven one (test_ARG_table) for every case of the clauses its table
(fixtures/cases/arg.yaml) cites.

The page is a Jinja2 template (templates/peers.html.j2) with autoescaping on:
every value from peers.yaml, a run or a baseline is escaped there.
"""

import os
import re

import jinja2
import yaml
from markupsafe import Markup

from .html_common import CSS
from .verdicts import SEVERITY, css_class, worst
from apmsock_harness.files import load_yaml

FUNC_RE = re.compile(r"^test_([A-Z]+)_(\d\d)(?:_(\w+))?$")
TABLE_RE = re.compile(r"^test_([A-Z]+)_table$")
CLAUSE_FIELD_RE = re.compile(r"\bclause:\s*([A-Z]+-\d\d)\b")   # block or flow style rows

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_ENV.filters["vclass"] = css_class


class PeersError(Exception):
    pass


def load(path):
    """The peer map, or None when there is none (the page then says so)."""
    if not path or not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            doc = load_yaml(f) or {}
    except (OSError, yaml.YAMLError) as e:
        raise PeersError("%s: %s" % (path, e))
    if not isinstance(doc.get("peers", []), list) or not isinstance(doc.get("suites", {}), dict):
        raise PeersError("%s: wants a 'suites' mapping and a 'peers' list" % path)
    return doc


def _table_clauses(cases_dir, family):
    path = os.path.join(cases_dir or "", family.lower() + ".yaml")
    if not os.path.exists(path):
        return set()
    with open(path, encoding="utf-8") as f:
        return set(CLAUSE_FIELD_RE.findall(f.read()))


def matcher(func, cases_dir):
    """case -> bool: does this result belong to harness test function `func`?"""
    m = FUNC_RE.match(func)
    if m:
        clause = "%s-%s" % (m.group(1), m.group(2))
        prefix = "%s[%s" % (clause, m.group(3) or "")

        def match(c):
            cid = c["case_id"]
            if c["clause"] != clause or not cid.startswith(prefix):
                return False
            rest = cid[len(prefix):]
            return not m.group(3) or rest[:1] in ("-", "]")
        return match
    t = TABLE_RE.match(func)
    clauses = _table_clauses(cases_dir, t.group(1)) if t else set()
    return lambda c: c["clause"] in clauses


def _column(m, impl, matchers, baselines):
    counts, reasons = {}, []
    bl = baselines.get(impl)
    for r in m.runs_of(impl):
        if r["profile"] != m.primary_profile[impl]:
            continue
        for c in r["cases"]:
            if not any(f(c) for f in matchers):
                continue
            counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
            if c["verdict"] != "PASS" and bl is not None:
                e = bl.lookup(r["suite"], r["profile"], c)
                if e and e.get("reason") and e["reason"] not in reasons:
                    reasons.append(e["reason"])
    return {"impl": impl, "verdict": worst(counts) if counts else None,
            "counts": sorted(counts.items(), key=lambda kv: -SEVERITY[kv[0]]), "reasons": reasons}


def render(m, baselines, doc, cases_dir=None):
    impls = list(m.impls)
    suites = []
    if doc is not None:
        entries = doc.get("peers") or []
        for name, info in (doc.get("suites") or {}).items():
            rows = []
            for e in entries:
                if e.get("suite") != name:
                    continue
                cases = e.get("cases") or []
                fs = [matcher(c, cases_dir) for c in cases]
                rows.append({"test": e.get("test"), "file": e.get("file"), "cases": cases, "note": e.get("note"),
                             "excluded": e.get("excluded"),
                             "columns": [_column(m, i, fs, baselines) for i in impls] if cases else []})
            suites.append({"name": name, "repository": (info or {}).get("repository", ""),
                           "scope": (info or {}).get("scope", ""), "rows": rows,
                           "covered": sum(1 for r in rows if r["cases"]),
                           "excluded": sum(1 for r in rows if r["excluded"])})
    return _ENV.get_template("peers.html.j2").render(
        css=Markup(CSS), impls=impls, suites=suites, have_map=doc is not None,
        profile=m.primary_profile)
