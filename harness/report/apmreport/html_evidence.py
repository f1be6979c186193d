"""reports/evidence/<impl>-<suite>-<profile>.html: every case of one run, grouped by clause.

Anchors: #clause-<ID> for the clause's group (the matrix links there), #case-<slug> per case.
"""

import json

from apmsock_harness.baseline import show

from . import reproduce
from .html_common import badge, case_anchors, clause_anchor, esc, page


def _exchange(ex):
    rows = "".join('<tr><td class="dir">%s</td><td>%s</td></tr>' % (esc(x.get("dir")), esc(x.get("line")))
                   for x in ex)
    return '<h4>Adapter exchange (&gt; to the adapter, &lt; from it)</h4><table class="exchange">%s</table>' % rows


def _peers(peers):
    items = []
    for p in peers:
        rec = p.get("received") or []
        items.append("<li><b>%s</b>: %s</li>" % (
            esc(p.get("peer")), "received nothing" if not rec else
            "<ol>%s</ol>" % "".join("<li><code>%s</code></li>" % esc(x if isinstance(x, str) else json.dumps(x))
                                    for x in rec)))
    return "<h4>What the loopback peers received</h4><ul>%s</ul>" % "".join(items)


def _timeline(tl):
    rows = "".join("<tr><td>%s</td><td>%s</td></tr>" % (
        esc("%.6f" % t["t"] if isinstance(t.get("t"), (int, float)) else (t.get("t") or "")), esc(t.get("what")))
        for t in tl)
    return "<h4>Event timeline</h4><table><tr><th>t (s)</th><th>event</th></tr>%s</table>" % rows


def case_html(run, case, anchor, baseline_entry=None):
    ev = case.get("evidence") or {}
    parts = ['<article id="%s"><h3>%s %s</h3>' % (esc(anchor), esc(case["case_id"]), badge(case["verdict"]))]
    facts = []
    if case.get("mode"):
        facts.append("mode <b>%s</b>" % esc(case["mode"]))
    if case.get("signal"):
        facts.append("signal <b>%s</b>" % esc(case["signal"]))
    if case.get("duration_s") is not None:
        facts.append("%.3f s" % case["duration_s"])
    if case.get("level"):
        facts.append('<span class="level">%s</span>' % esc(case["level"]))
    if facts:
        parts.append("<p>%s</p>" % " · ".join(facts))
    if case.get("message"):
        parts.append("<p>%s</p>" % esc(case["message"]))
    if baseline_entry is not None:
        parts.append("<p>Baseline expects %s%s: %s</p>" % (
            esc(show(baseline_entry.get("verdict", "FAIL"))),
            (" / " + esc(show(baseline_entry["mode"]))) if baseline_entry.get("mode") else "",
            esc(baseline_entry.get("reason") or "(no reason given)")))
    parts.append('<p>Reproduce: <code class="cmd">%s</code></p>' % esc(reproduce.command(run, case)))
    if ev.get("exchange"):
        parts.append(_exchange(ev["exchange"]))
    if ev.get("peers"):
        parts.append(_peers(ev["peers"]))
    if ev.get("timeline"):
        parts.append(_timeline(ev["timeline"]))
    if ev.get("stderr"):
        parts.append("<h4>Standard error</h4><pre>%s</pre>" % esc(ev["stderr"]))
    if ev.get("info"):
        parts.append("<h4>Details</h4><pre>%s</pre>" % esc(json.dumps(ev["info"], indent=1, sort_keys=True)))
    if not any(ev.get(k) for k in ("exchange", "peers", "timeline", "stderr")):
        parts.append('<p class="muted">No exchange, peer or timeline evidence recorded for this case.</p>')
    parts.append("</article>")
    return "".join(parts)


def render(run, catalogue, baseline=None):
    anchors = case_anchors(run["cases"])
    impl = run["implementation"]
    head = ['<h1>Evidence: %s · %s suite · %s profile</h1>' % (esc(impl["id"]), esc(run["suite"]), esc(run["profile"])),
            "<p>%s %s · protocol %s · started %s · %d case(s)</p>" % (
                esc(impl.get("name") or ""), esc(impl.get("version") or ""), esc(run.get("protocol_version") or "—"),
                esc(run.get("started") or "—"), len(run["cases"]))]
    gate = run.get("gate")
    if gate:
        head.append("<p>Gate: <b>%s</b> against %s</p>" % (esc(gate.get("status")), esc(gate.get("baseline") or "an empty baseline")))
    by_clause = {}
    for c in run["cases"]:
        by_clause.setdefault(c["clause"], []).append(c)
    order = [cid for cid in catalogue.clauses if cid in by_clause]
    order += sorted(set(by_clause) - set(order))
    index = " ".join('<a href="#%s">%s</a>' % (esc(clause_anchor(cid)), esc(cid)) for cid in order)
    head.append("<p>%s</p>" % index)
    body = []
    for cid in order:
        rec = catalogue.clauses.get(cid, {})
        body.append('<section id="%s"><h2>%s <span class="level">%s</span> %s</h2>'
                    '<blockquote>%s <a href="../clauses.html#%s">(clause)</a></blockquote>' % (
                        esc(clause_anchor(cid)), esc(cid), esc(rec.get("level", "")), esc(rec.get("title", "")),
                        esc(rec.get("sentence") or "(not in the catalogue)"), esc(cid)))
        for c in by_clause[cid]:
            entry = baseline.lookup(run["suite"], run["profile"], c) if baseline else None
            body.append(case_html(run, c, anchors[c["case_id"]], entry))
        body.append("</section>")
    return page("evidence %s-%s-%s" % (impl["id"], run["suite"], run["profile"]),
                "\n".join(head + body), nav_prefix="../")
