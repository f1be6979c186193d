"""performance.html from a small bench-impls.json (issue 14): a table and an inline SVG bar
chart per workload, the ratios to raw sendto(), the skipped implementation's note, every
value escaped; index.html links the page once it exists."""
import json
import os
import re

from apmreport import html_performance
from conftest import DATA


def _doc():
    with open(os.path.join(DATA, "bench", "bench-impls.json"), encoding="utf-8") as f:
        return json.load(f)


def _section(html, workload):
    m = re.search(r'<table class="perf" data-workload="%s">(.*?)</table>\s*(<svg.*?</svg>)' % workload, html, re.S)
    assert m, "no table and chart for %s" % workload
    return m.group(1), m.group(2)


def test_each_workload_has_its_table_and_chart():
    doc = _doc()
    html = html_performance.render(doc)
    for name in ("documented", "sync"):
        table, svg = _section(html, name)
        for impl in doc["implementations"]:
            ratio = impl["workloads"][name]["ratio_median"]
            assert re.search(r'<tr data-impl="%s">.*?data-ratio="%.3f"' % (impl["id"], ratio), table, re.S)
            assert "%.2fx" % ratio in svg
        assert svg.count('<rect class="bar"') == len(doc["implementations"])
        assert "raw = 1.0" in svg
    documented, _ = _section(html, "documented")
    assert "latency steady p50 / p99" in documented
    assert 'data-skipped="dotnet"' in html and "needs the .NET SDK" in html


def test_values_are_escaped():
    html = html_performance.render(_doc())
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_run_that_measured_nothing_says_so():
    doc = dict(_doc(), implementations=[], broke=[{"id": "mono", "repetition": 1, "why": "crash"}])
    html = html_performance.render(doc)
    assert "No implementation was measured." in html and 'data-broke="mono"' in html


def test_index_links_the_page_once_it_exists(built):
    from conftest import build
    assert 'href="performance.html"' not in (built / "index.html").read_text()
    (built / "performance.html").write_text(html_performance.render(_doc()))
    rc, _, err = build(built)
    assert rc == 0, err
    assert '<a href="performance.html">Performance</a>' in (built / "index.html").read_text()
