"""reports/index.html: runs, summaries per family and level, the matrix."""

import collections
import json
import os

from .html_common import clause_anchor, counts_text, esc, legend, page
from .junit import file_name as junit_name
from .verdicts import css_class

FAMILY_NAMES = {
    "ARG": "argument exceptions", "ERR": "socket errors", "CONN": "connection-oriented and connectionless",
    "BCAST": "broadcast", "SIZE": "oversize datagrams", "FLAGS": "flags",
    "ASYNC": "result, callback, wait handle", "END": "EndSend / EndSendTo",
    "CANCEL": "thread exit and disposal", "TRACE": "tracing", "CTX": "context caching",
    "SEC": "permission", "EX": "the documented example", "FAULT": "transport faults (injected)",
}
SHORT = {("c", "documented"): "C", ("harness", "documented"): "H",
         ("c", "portable"): "C·p", ("harness", "portable"): "H·p"}


def _impl_head(m, impl):
    info = m.impl_info[impl]
    ref = ' <span class="level">reference</span>' if impl == m.reference else ""
    name = info.get("name") if info.get("name") not in (None, impl) else ""
    detail = " ".join(x for x in (name, info.get("version") or "") if x)
    return '<th class="impl" data-impl="%s">%s%s%s</th>' % (
        esc(impl), esc(impl), ref, '<br><span class="muted">%s</span>' % esc(detail) if detail else "")


def _partial(run):
    """A run of a selection (conform -k/--case/--shard) says so beside its profile."""
    part = run.get("partial")
    if not part:
        return ""
    return ' <span class="partial" title="only the selected cases ran">partial: %s</span>' % esc(
        part.get("selection") or "a selection")


def _runs_table(m):
    rows = []
    for r in m.runs:
        stem = m.stem(r)
        vs = {}
        for c in r["cases"]:
            vs[c["verdict"]] = vs.get(c["verdict"], 0) + 1
        gate = r.get("gate") or {}
        rows.append("<tr><td>%s</td><td>%s %s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                    "<td>%d</td><td>%s</td><td>%s</td><td><a href=\"evidence/%s.html\">evidence</a> · "
                    "<a href=\"junit/%s\">JUnit</a> · <a href=\"runs/%s.json\">JSON</a></td></tr>" % (
                        esc(r["implementation"]["id"]), esc(r["implementation"].get("name") or ""),
                        esc(r["implementation"].get("version") or ""), esc(r["suite"]),
                        esc(r["profile"]) + _partial(r),
                        esc(r.get("protocol_version") or "—"), esc(r.get("started") or "—"),
                        len(r["cases"]), esc(counts_text(collections.Counter(vs))) or "—",
                        esc(gate.get("status") or "—"), esc(stem), esc(junit_name(r)), esc(stem)))
    return ("<h2 id=\"runs\">Runs</h2><table class=\"runs\"><tr><th>implementation</th><th>name, version</th>"
            "<th>suite</th><th>profile</th><th>protocol</th><th>started</th><th>cases</th><th>verdicts</th>"
            "<th>gate</th><th>files</th></tr>%s</table>" % "".join(rows))


def _summary(m, title, anchor, groups):
    head = "".join(_impl_head(m, i) for i in m.impls)
    rows = []
    for name, ids, label in groups:
        cells = []
        for impl in m.impls:
            g = m.group(impl, ids)
            ok = g["clauses"].get("PASS", 0)
            cells.append('<td class="cell %s" data-group="%s" data-impl="%s"><span class="word">%s</span>'
                         '<span class="counts">%d/%d clauses PASS</span><span class="counts">%s</span></td>' % (
                             css_class(g["verdict"]), esc(name), esc(impl), esc(g["verdict"] or "no case"),
                             ok, g["n"], esc(counts_text(g["cases"])) or "no case"))
        rows.append("<tr><th>%s</th>%s</tr>" % (label, "".join(cells)))
    return '<h2 id="%s">%s</h2><table class="summary"><tr><th></th>%s</tr>%s</table>' % (
        anchor, esc(title), head, "".join(rows))


def _matrix(m):
    head = "".join(_impl_head(m, i) for i in m.impls)
    body = []
    for fam, ids in m.catalogue.families():
        body.append('<tbody class="family" id="fam-%s"><tr class="fam"><th colspan="%d">%s — %s</th></tr>'
                    % (esc(fam), len(m.impls) + 1, esc(fam), esc(FAMILY_NAMES.get(fam, ""))))
        for cid in ids:
            rec = m.catalogue.clauses[cid]
            th = ('<th class="clause" title="%s"><a href="clauses.html#%s">%s</a> <span class="level">%s</span>'
                  '<br><span class="muted">%s</span></th>' % (
                      esc(rec.get("sentence")), esc(cid), esc(cid), esc(rec["level"]), esc(rec.get("title"))))
            cells = []
            for impl in m.impls:
                cell = m.cell(impl, cid)
                links = " ".join(
                    '<a class="%s" href="evidence/%s.html#%s" title="%s %s: %s">%s</a>' % (
                        css_class(v), esc(m.stem(r)), esc(clause_anchor(cid)), esc(r["suite"]),
                        esc(r["profile"]), esc(counts_text(cnt)), esc(SHORT[(r["suite"], r["profile"])]))
                    for r, v, cnt in cell["per_run"])
                word = cell["verdict"] or "no case"
                cells.append('<td class="cell %s" data-impl="%s" data-clause="%s" data-verdict="%s">'
                             '<span class="word">%s</span><span class="counts">%s</span>'
                             '<span class="runlinks">%s</span></td>' % (
                                 css_class(cell["verdict"]), esc(impl), esc(cid), esc(cell["verdict"] or "none"),
                                 esc(word), esc(counts_text(cell["counts"])), links))
            body.append("<tr>%s%s</tr>" % (th, "".join(cells)))
        body.append("</tbody>")
    return ('<h2 id="matrix">Implementations × clauses</h2>'
            '<p class="muted">A cell is judged on the documented profile (both suites); the small links '
            'open the evidence of each run: C = C suite, H = harness, ·p = portable profile.</p>'
            '<table class="matrix" id="matrix-table"><thead><tr><th>clause</th>%s</tr></thead>%s</table>'
            % (head, "".join(body)))


def _coverage_figures(path):
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        return ": lines %.1f %%, branches %.1f %%" % (d["line_percent"], d["branch_percent"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def _mutation_figures(path):
    try:
        with open(path, encoding="utf-8") as f:
            s = json.load(f)["scores"]
        return ": %d killable mutants; C suite %s %%, harness alone %s %%, both %s %%" % (
            s["killable"], s["c"]["score"], s["harness"]["score"], s["combined"]["score"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def render(m, compare_summary=None, reports_dir=None):
    doc = m.doc
    parts = ["<h1>apmsock conformance</h1>",
             '<p>suite %s%s · contract %s · generated %s · %d run(s) of %d implementation(s) · '
             '<a href="results.json">results.json</a></p>' % (
                 esc(doc["suite_version"]),
                 " (revision %s)" % esc(doc["suite_revision"]) if doc.get("suite_revision") else "",
                 esc(doc["contract_version"]), esc(doc["generated"]),
                 len(m.runs), len(m.impls))]
    parts.append('<p><a href="differences.html">How the implementations differ</a>: where they disagree '
                 'with each other, and where all deviate from the documents the same way</p>')
    parts.append('<p><a href="peers.html">The peer suites</a>: each test of dotnet/runtime\'s, Mono\'s and '
                 'Wine\'s suites for this API, the cases that cover it and their verdicts, or why it is '
                 'out of scope</p>')
    if reports_dir and os.path.exists(os.path.join(reports_dir, "performance.html")):
        parts.append('<p><a href="performance.html">Performance</a>: each implementation\'s documented callback '
                     'pattern and synchronous send as ratios to raw sendto() (make bench-impls)</p>')
    if reports_dir and os.path.exists(os.path.join(reports_dir, "coverage", "index.html")):
        parts.append('<p><a href="coverage/index.html">Coverage of the reference (gcovr)</a>%s</p>'
                     % esc(_coverage_figures(os.path.join(reports_dir, "coverage", "summary.json"))))
    if reports_dir and os.path.exists(os.path.join(reports_dir, "mutation", "index.html")):
        parts.append('<p><a href="mutation/index.html">Mutation testing of the reference</a>%s</p>'
                     % esc(_mutation_figures(os.path.join(reports_dir, "mutation", "mutation.json"))))
    if compare_summary is not None:
        parts.append('<p><a href="compare.html">Compared with %s</a>: %s</p>' % (
            esc(compare_summary["old"]), esc(compare_summary["text"])))
    parts.append(legend())
    if not m.runs:
        parts.append('<p class="new">No run file in reports/runs/: nothing was run yet.</p>')
    parts.append(_runs_table(m))
    fams = [(f, ids, '<a href="#fam-%s">%s</a>' % (esc(f), esc(f))) for f, ids in m.catalogue.families()]
    parts.append(_summary(m, "Summary per family", "per-family", fams))
    lv = [(l, ids, esc(l)) for l, ids in m.levels()]
    parts.append(_summary(m, "Summary per level", "per-level", lv))
    parts.append(_matrix(m))
    return page("apmsock conformance matrix", "\n".join(parts))
