"""The report opened in headless Chromium: it renders, the matrix has one cell per clause and
implementation, the evidence links resolve; a screenshot goes under reports/.

Checks the synthetic report always, and the project's reports/index.html when `make conformance`
has written one. Skipped, with the reason, when Chromium is not installed (`make deps`)."""
import json
import os
import urllib.parse

import pytest

from apmreport import browser, linkcheck
from apmreport.catalogue import CLAUSE_RE
from conftest import REPORT, build

ROOT = os.path.dirname(os.path.dirname(REPORT))
PROJECT_REPORTS = os.environ.get("APMSOCK_REPORTS", os.path.join(ROOT, "reports"))
CHROMIUM = browser.find()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package chromium; run make deps)")


def check_rendered(index, n_clauses, impls, png):
    dom = browser.dump_dom(CHROMIUM, index)
    page = linkcheck.parse_text(dom)
    assert "matrix-table" in page.ids, "the matrix did not render"
    cells = page.cells
    pairs = {(c["data-impl"], c["data-clause"]) for c in cells}
    assert len(cells) == n_clauses * len(impls) == len(pairs), (len(cells), n_clauses, impls)
    assert {c["data-impl"] for c in cells} == set(impls)
    # every evidence link of the rendered page resolves to an existing anchor, as Chromium sees it
    targets = {}
    for href in page.hrefs:
        u = urllib.parse.urlparse(href)
        assert not u.scheme and not u.netloc, "external link %s" % href
        if u.path.startswith("evidence/") and u.fragment:
            targets.setdefault(u.path, set()).add(u.fragment)
    assert targets, "no evidence link in the matrix"
    for rel, frags in targets.items():
        ev = linkcheck.parse_text(browser.dump_dom(CHROMIUM, os.path.join(os.path.dirname(index), rel)))
        missing = frags - ev.ids
        assert not missing, "%s lacks anchors %s" % (rel, sorted(missing)[:5])
    assert linkcheck.broken_links(index) == []
    os.makedirs(os.path.dirname(png), exist_ok=True)
    browser.screenshot(CHROMIUM, index, png)
    w, h = browser.png_size(png)
    assert w >= 800 and h >= 600 and os.path.getsize(png) > 10000, "blank screenshot?"


def test_synthetic_report_in_chromium(reports):
    rc, out, err = build(reports)
    assert rc == 0, err
    check_rendered(str(reports / "index.html"), 11, ["reference", "mono"],
                   os.path.join(PROJECT_REPORTS, "report-selftest.png"))


def test_project_report_in_chromium():
    index = os.path.join(PROJECT_REPORTS, "index.html")
    results = os.path.join(PROJECT_REPORTS, "results.json")
    if not (os.path.exists(index) and os.path.exists(results)):
        pytest.skip("no %s yet: run `make conformance` first" % index)
    with open(results) as f:
        doc = json.load(f)
    impls = []
    for r in doc["runs"]:
        if r["implementation"]["id"] not in impls:
            impls.append(r["implementation"]["id"])
    if not impls:
        pytest.skip("reports/results.json holds no run")
    # The catalogue the report was made with (clauses.html), so a report older than an edit of
    # fixtures/clauses.yaml is judged on its own terms.
    sections = [i for i in linkcheck.parse(os.path.join(PROJECT_REPORTS, "clauses.html")).ids
                if CLAUSE_RE.match(i)]
    assert sections, "clauses.html lists no clause"
    check_rendered(index, len(sections), impls, os.path.join(PROJECT_REPORTS, "index.png"))
