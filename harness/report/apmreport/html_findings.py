"""reports/findings.html: per implementation, each deviation from the documents.

A deviation is a case whose verdict is not PASS (SKIP is the environment's, listed apart).
Each shows the clause, its sentence, what happened, the baseline's reason and the command
that re-runs that one case.
"""

from apmsock_harness.baseline import show

from . import reproduce
from .html_common import badge, case_anchors, esc, page
from .verdicts import SEVERITY


def _deviations(m, impl):
    out, skipped = [], []
    for r in m.runs_of(impl):
        anchors = case_anchors(r["cases"])
        for c in r["cases"]:
            if c["verdict"] == "PASS":
                continue
            (skipped if c["verdict"] == "SKIP" else out).append((r, c, anchors[c["case_id"]]))
    order = list(m.catalogue.clauses)
    out.sort(key=lambda x: (order.index(x[1]["clause"]) if x[1]["clause"] in order else len(order),
                            -SEVERITY[x[1]["verdict"]], x[0]["suite"], x[0]["profile"], x[1]["case_id"]))
    return out, skipped


def _finding(m, run, case, anchor, baselines):
    rec = m.catalogue.clauses.get(case["clause"], {})
    bl = baselines.get(run["implementation"]["id"])
    entry = bl.lookup(run["suite"], run["profile"], case) if bl else None
    stem = m.stem(run)
    if entry is None:
        reason = '<span class="new">not in the baseline: a new deviation</span>'
    else:
        reason = "%s%s — %s" % (esc(show(entry.get("verdict", "FAIL"))),
                                (" / " + esc(show(entry["mode"]))) if entry.get("mode") else "",
                                esc(entry.get("reason") or "(no reason given)"))
    what = esc(case.get("message") or "(no message)")
    if case.get("mode"):
        what = "<b>%s%s</b>: %s" % (esc(case["mode"]), (" " + esc(case["signal"])) if case.get("signal") else "", what)
    if case.get("signature"):   # which check failed: what a baseline entry's `signature:` names
        what += '<br><span class="muted">check: <code>%s</code></span>' % esc(case["signature"])
    return ('<tr class="finding" data-impl="%s" data-clause="%s"><td><a href="clauses.html#%s">%s</a> '
            '<span class="level">%s</span></td><td><blockquote>%s</blockquote></td><td>%s %s<br>%s · %s</td>'
            '<td>%s<br><a href="evidence/%s.html#%s">evidence</a></td><td>%s</td><td><code class="cmd">%s</code></td></tr>' % (
                esc(run["implementation"]["id"]), esc(case["clause"]), esc(case["clause"]), esc(case["clause"]),
                esc(rec.get("level") or case.get("level") or ""), esc(rec.get("sentence") or "—"),
                esc(case["case_id"]), badge(case["verdict"]), esc(run["suite"]), esc(run["profile"]),
                what, esc(stem), esc(anchor), reason, esc(reproduce.command(run, case))))


def render(m, baselines):
    parts = ["<h1>Findings</h1>",
             "<p>Where an implementation differs from the documents. The documented expectation never "
             "changes; the baseline records the differences an implementation is known to have, with "
             "the reason.</p>"]
    impls = [i for i in m.impls if i != m.reference]
    ref_dev, _ = _deviations(m, m.reference) if m.reference in m.impls else ([], [])
    if ref_dev:
        impls = [m.reference] + impls
    if not impls:
        parts.append("<p>Only the reference has run so far; run another implementation "
                     "(<code>make conformance IMPL=mono</code>) to see its findings.</p>")
    for impl in impls:
        dev, skipped = _deviations(m, impl)
        title = impl + (" — the reference must have none" if impl == m.reference else "")
        parts.append('<h2 id="impl-%s">%s</h2>' % (esc(impl), esc(title)))
        parts.append("<p>%d deviation(s) over %d clause(s)%s.</p>" % (
            len(dev), len({c["clause"] for _, c, _ in dev}),
            "; %d case(s) skipped by the environment" % len(skipped) if skipped else ""))
        if dev:
            parts.append("<table class=\"findings\"><colgroup><col class=\"c1\"><col class=\"c2\"><col class=\"c3\">"
                         "<col class=\"c4\"><col class=\"c5\"><col class=\"c6\"></colgroup><tr><th>clause</th><th>the documents say</th><th>case</th>"
                         "<th>what happened</th><th>baseline</th><th>reproduce</th></tr>%s</table>"
                         % "".join(_finding(m, r, c, a, baselines) for r, c, a in dev))
        if skipped:
            parts.append("<p class=\"muted\">Skipped: %s</p>" % esc(", ".join(
                "%s (%s)" % (c["case_id"], c.get("message") or "") for _, c, _ in skipped)))
    return page("apmsock findings", "\n".join(parts))
