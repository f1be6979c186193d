"""reports/differences.html: how the implementations under test differ from
each other, clause by clause, with the reference beside them.

Two lists, over the implementations other than the reference (at least two
must have run):
- clauses where they disagree: their deviations (non-PASS cases other than
  UNSUPPORTED and SKIP, with verdict and mode) are not the same;
- clauses where all of them deviate, and in the same way (same cases, same
  verdicts).  Independent implementations that agree against the documents
  most likely meet a platform fact the documents do not describe: the
  documents were written for Windows / .NET Framework.

The page is a Jinja2 template (templates/differences.html.j2) with
autoescaping on: every value from a run or a baseline is escaped there.
"""

import os

import jinja2
from markupsafe import Markup

from .html_common import CSS
from .verdicts import SEVERITY, css_class, worst

NOT_MEASURED = ("UNSUPPORTED", "SKIP")

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_ENV.filters["vclass"] = css_class


def _deviations(m, impl, clause):
    """{case_id: "VERDICT[/mode]"} of the non-PASS, measured cases (primary profile)."""
    return {c["case_id"]: c["verdict"] + ("/" + c["mode"] if c.get("mode") else "")
            for _, c in m.cases(impl, clause)
            if c["verdict"] != "PASS" and c["verdict"] not in NOT_MEASURED}


def _column(m, impl, clause, baselines):
    pairs = m.cases(impl, clause)
    counts = {}
    for _, c in pairs:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    reasons = []
    bl = baselines.get(impl)
    for r, c in pairs:
        if c["verdict"] == "PASS" or bl is None:
            continue
        e = bl.lookup(r["suite"], r["profile"], c)
        if e and e.get("reason") and e["reason"] not in reasons:
            reasons.append(e["reason"])
    return {"impl": impl, "verdict": worst(counts) if counts else None,
            "counts": sorted(counts.items(), key=lambda kv: -SEVERITY[kv[0]]), "reasons": reasons}


def classify(m):
    """(others, disagree, same_way): clause ids, in catalogue order."""
    others = [i for i in m.impls if i != m.reference]
    disagree, same = [], []
    if len(others) < 2:
        return others, disagree, same
    for cid in m.catalogue.clauses:
        devs = [_deviations(m, i, cid) for i in others]
        if not any(devs):
            continue
        if all(d == devs[0] for d in devs):
            same.append(cid)
        else:
            disagree.append(cid)
    return others, disagree, same


def render(m, baselines):
    others, disagree, same = classify(m)
    shown = [i for i in ([m.reference] if m.reference in m.impls else []) + others]

    def rows(ids):
        out = []
        for cid in ids:
            rec = m.catalogue.clauses.get(cid, {})
            out.append({"id": cid, "level": rec.get("level") or "", "sentence": rec.get("sentence") or "",
                        "columns": [_column(m, i, cid, baselines) for i in shown]})
        return out

    return _ENV.get_template("differences.html.j2").render(
        css=Markup(CSS), impls=shown, others=others, reference=m.reference,
        disagree=rows(disagree), same=rows(same),
        info={i: m.impl_info.get(i, {}) for i in shown}, profile=m.primary_profile)
