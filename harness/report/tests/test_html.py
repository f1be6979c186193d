"""index.html, the evidence pages, clauses.html, findings.html and compare.html."""
import json
import re

from apmreport import linkcheck
from apmreport.verdicts import COLOUR
from conftest import build, cli

N_CLAUSES = 11  # tests/data/clauses.yaml


def cells(reports):
    return linkcheck.parse(str(reports / "index.html")).cells


def test_matrix_has_one_cell_per_clause_and_implementation(built):
    cs = cells(built)
    assert len(cs) == N_CLAUSES * 2
    assert len({(c["data-impl"], c["data-clause"]) for c in cs}) == N_CLAUSES * 2


def test_cell_shows_the_worst_verdict_of_the_documented_runs(built):
    by = {(c["data-impl"], c["data-clause"]): c for c in cells(built)}
    want = {("mono", "CONN-07"): "ERROR", ("mono", "CANCEL-01"): "FAIL", ("mono", "SIZE-01"): "NON-STRICT",
            ("mono", "TRACE-01"): "UNSUPPORTED", ("mono", "ERR-05"): "SKIP", ("mono", "ARG-01"): "PASS",
            ("reference", "CONN-07"): "PASS", ("mono", "ARG-06"): "none"}
    for k, v in want.items():
        assert by[k]["data-verdict"] == v, k
        assert "v-" + v.lower().replace("-", "") in by[k]["class"].split()


def test_each_verdict_has_its_own_colour_in_the_stylesheet(built):
    html = (built / "index.html").read_text()
    assert len({bg for bg, _ in COLOUR.values()}) == len(COLOUR)
    for v, (bg, fg) in COLOUR.items():
        cls = "v-" + v.lower().replace("-", "")
        assert re.search(r"\.%s\{background:%s;color:%s\}" % (cls, re.escape(bg), re.escape(fg)), html), v


def test_counts_in_cells(built):
    html = (built / "index.html").read_text()
    m = re.search(r'data-impl="mono" data-clause="CONN-07"[^>]*>(.*?)</td>', html)
    assert "1 ERROR · 1 PASS" in m.group(1)


def test_every_link_resolves_and_is_local(built):
    assert linkcheck.broken_links(str(built / "index.html")) == []


def test_cells_link_to_evidence_and_rows_to_the_sentence(built):
    html = (built / "index.html").read_text()
    assert 'href="evidence/mono-harness-documented.html#clause-CONN-07"' in html
    assert 'href="clauses.html#CONN-07"' in html
    clauses = (built / "clauses.html").read_text()
    # verbatim, escaped for HTML
    assert "You are also not required to call the Bind method &lt;before&gt; sending &amp; receiving." in clauses


def test_evidence_page_carries_exchange_peers_timeline(built):
    ev = (built / "evidence" / "mono-harness-documented.html").read_text()
    sec = ev[ev.index('id="clause-CONN-07"'):]
    assert "Adapter exchange" in sec and "What the loopback peers received" in sec and "Event timeline" in sec
    assert "&quot;op&quot;:&quot;begin_send_to&quot;" in sec
    assert "5468697320697320612074657374" in sec


def test_summary_per_family_and_level(built):
    p = linkcheck.parse(str(built / "index.html"))
    assert {"per-family", "per-level", "matrix", "runs"} <= p.ids
    html = (built / "index.html").read_text()
    assert re.search(r'data-group="SHOULD" data-impl="mono"', html)
    assert re.search(r'data-group="CANCEL" data-impl="mono"', html)


def test_findings_page(built):
    f = (built / "findings.html").read_text()
    assert 'id="impl-mono"' in f and 'id="impl-reference"' not in f  # the reference has none
    row = re.search(r'<tr class="finding" data-impl="mono" data-clause="CANCEL-01">.*?</tr>', f).group(0)
    assert "All I/O initiated by a given thread is canceled when that thread exits." in row
    assert "Mono does not cancel I/O when the issuing thread exits" in row
    assert "harness/conform --impl mono --profile documented --case &#x27;CANCEL-01[tcp-v4]&#x27;" in row
    assert "evidence/mono-harness-documented.html#case-CANCEL-01_tcp-v4_" in row
    new = re.search(r'<tr class="finding" data-impl="mono" data-clause="CONN-07">.*?</tr>', f).group(0)
    assert "not in the baseline" in new
    assert "no IPv6 on this host" in f  # the SKIP is listed apart


def test_compare_view(built, tmp_path):
    old = json.loads((built / "results.json").read_text())
    for r in old["runs"]:
        for c in r["cases"]:
            key = (r["implementation"]["id"], r["profile"], c["case_id"])
            if key == ("mono", "documented", "ARG-01[begin_send]"):
                c.update(verdict="FAIL", mode="assertion")        # -> now passes
            if key == ("mono", "documented", "CANCEL-01[tcp-v4]"):
                c.update(mode="timeout")                           # mode changed
    # a case that passed before and fails now
    for r in old["runs"]:
        if (r["implementation"]["id"], r["profile"]) == ("mono", "documented"):
            for c in r["cases"]:
                if c["case_id"] == "CONN-07[udp-v6-send_to]":
                    c.update(verdict="PASS", mode=None, signal=None)
            r["cases"] = [c for c in r["cases"] if c["case_id"] != "ASYNC-07[udp-v4]"]
    oldp = tmp_path / "old-results.json"
    oldp.write_text(json.dumps(old))
    rc, out, err = build(built, "--compare", oldp)
    assert rc == 0, err
    assert "1 new failure(s), 1 new pass(es), 1 changed, 1 added, 0 removed" in out
    assert "mono harness documented CONN-07[udp-v6-send_to]: PASS -> ERROR/crash/SIGABRT" in out
    assert "mono harness documented CANCEL-01[tcp-v4]: FAIL/timeout -> FAIL/assertion" in out
    page = (built / "compare.html").read_text()
    assert '<tr class="new_failures"><td>mono</td>' in page and '<tr class="new_passes">' in page
    assert 'href="compare.html"' in (built / "index.html").read_text()
    rc, out, err = cli("compare", oldp, built / "results.json")
    assert rc == 0 and "NEW FAILURES" in out


def test_compare_with_a_broken_old_file_is_a_clear_error(built, tmp_path):
    p = tmp_path / "old.json"
    p.write_text('{"runs": []}')
    rc, out, err = build(built, "--compare", p)
    assert rc == 3 and "old.json: not valid against harness/report/results.schema.json" in err


def test_html_escapes_hostile_messages(reports):
    path = reports / "runs" / "mono-harness-documented.json"
    run = json.loads(path.read_text())
    run["cases"][0].update(verdict="FAIL", mode="assertion", message='<script>alert(1)</script>')
    path.write_text(json.dumps(run))
    rc, out, err = build(reports)
    assert rc == 0, err
    for page in ("findings.html", "evidence/mono-harness-documented.html"):
        text = (reports / page).read_text()
        assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_uncatalogued_clause_is_shown_not_dropped(reports):
    path = reports / "runs" / "mono-harness-documented.json"
    run = json.loads(path.read_text())
    run["cases"].append({"case_id": "EX-01[x]", "clause": "EX-01", "verdict": "PASS"})
    path.write_text(json.dumps(run))
    rc, out, err = build(reports)
    assert rc == 0 and "missing from the catalogue: EX-01" in err
    assert len(cells(reports)) == (N_CLAUSES + 1) * 2
    assert "not in the catalogue" in (reports / "clauses.html").read_text()


def test_coverage_link_with_figures(built):
    cov = built / "coverage"
    cov.mkdir()
    (cov / "index.html").write_text("<html><body>gcovr</body></html>")
    (cov / "summary.json").write_text('{"line_percent": 96.25, "branch_percent": 87.5}')
    rc, out, err = build(built)
    assert rc == 0, err
    assert '<a href="coverage/index.html">Coverage of the reference (gcovr)</a>: lines 96.2 %, branches 87.5 %' \
        in (built / "index.html").read_text()


def test_partial_run_signature_and_intermittent_entry_are_shown(reports, tmp_path):
    """A run of a selection says so in the runs table; a finding shows the check
    that failed (its signature); a baseline entry with several verdicts reads as a list."""
    path = reports / "runs" / "mono-harness-documented.json"
    run = json.loads(path.read_text())
    run["partial"] = {"selection": "-k CONN-07", "tag": "k-CONN-07", "cases": len(run["cases"])}
    run["cases"][0].update(verdict="FAIL", mode="assertion", message="m", signature="judge: assert a == b #12345678")
    path.write_text(json.dumps(run))
    bl = tmp_path / "mine.yaml"
    bl.write_text('expected:\n  - {case_id: "%s", verdict: [FAIL, PASS], reason: "racy"}\n' % run["cases"][0]["case_id"])
    rc, out, err = build(reports, "--baseline", "mono=%s" % bl)
    assert rc == 0, err
    assert "partial: -k CONN-07" in (reports / "index.html").read_text()
    findings = (reports / "findings.html").read_text()
    assert "check: <code>judge: assert a == b #12345678</code>" in findings
    assert "[FAIL, PASS]" in findings and "racy" in findings


def test_mutation_link_with_scores(built):
    mut = built / "mutation"
    mut.mkdir()
    (mut / "index.html").write_text("<html><body>mutants</body></html>")
    (mut / "mutation.json").write_text(json.dumps({"scores": {
        "killable": 75, "c": {"score": 89.3}, "harness": {"score": 62.7}, "combined": {"score": 93.3}}}))
    rc, out, err = build(built)
    assert rc == 0, err
    assert ('<a href="mutation/index.html">Mutation testing of the reference</a>: 75 killable mutants; '
            'C suite 89.3 %, harness alone 62.7 %, both 93.3 %') in (built / "index.html").read_text()
