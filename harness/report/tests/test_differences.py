"""differences.html: the implementations under test side by side (a Jinja2 page)."""
import json
import os
import re
import shutil

from apmreport import linkcheck
from conftest import DATA, build


def _with_second_impl(reports, tmp_path):
    """The synthetic runs plus "dotnet": a copy of mono's documented run that agrees with
    mono on SIZE-01 (same case, same verdict), passes CANCEL-01 where mono fails, and
    fails CONN-07[udp-v4-send_to] where mono passes, with a baseline whose reason carries
    markup (it must arrive escaped)."""
    doc = json.loads((reports / "runs" / "mono-harness-documented.json").read_text())
    doc["implementation"] = {"id": "dotnet", "name": "dotnet <System.Net.Sockets>", "version": "10.0"}
    for c in doc["cases"]:
        if c["case_id"] == "CANCEL-01[tcp-v4]":
            c.update(verdict="PASS", mode=None)
        elif c["case_id"] == "CONN-07[udp-v4-send_to]":
            c.update(verdict="FAIL", mode="assertion", message="wildcard address")
    (reports / "runs" / "dotnet-harness-documented.json").write_text(json.dumps(doc))
    bdir = tmp_path / "baselines"
    shutil.copytree(os.path.join(DATA, "baselines"), bdir)
    (bdir / "dotnet.yaml").write_text(
        'implementation: dotnet\nexpected:\n'
        '  - {case_id: "SIZE-01[udp-v4-send_to]", verdict: NON-STRICT, reason: "from <End> & not Begin"}\n'
        '  - {case_id: "CONN-07[udp-v4-send_to]", verdict: FAIL, mode: assertion, reason: "getsockname"}\n'
        '  - {clause: TRACE-01, verdict: UNSUPPORTED, reason: "no trace"}\n'
        '  - {case_id: "CONN-07[udp-v6-send_to]", verdict: ERROR, reason: "crash"}\n')
    return bdir


def _section(html, anchor):
    m = re.search(r'<h2 id="%s">(.*?)(?=<h2 |</body>)' % anchor, html, re.S)
    assert m, "no section %s" % anchor
    return m.group(1)


def test_same_way_and_disagreement_are_told_apart(reports, tmp_path):
    bdir = _with_second_impl(reports, tmp_path)
    rc, out, err = build(reports, "--baselines", bdir)
    assert rc == 0, err
    html = (reports / "differences.html").read_text()
    same, dis = _section(html, "same-way"), _section(html, "disagree")
    assert 'data-clause="SIZE-01"' in same and 'data-clause="SIZE-01"' not in dis
    for cid in ("CANCEL-01", "CONN-07"):
        assert 'data-clause="%s"' % cid in dis and 'data-clause="%s"' not in same, cid
    # UNSUPPORTED on both sides is not a deviation, and PASS everywhere is not listed
    for cid in ("TRACE-01", "ARG-01"):
        assert 'data-clause="%s"' % cid not in html, cid
    assert "Windows / .NET Framework" in same
    # the reference stands beside them, and every value from a file is escaped
    assert 'data-impl="reference"' in dis
    assert "from &lt;End&gt; &amp; not Begin" in same and "<End>" not in html
    assert "dotnet &lt;System.Net.Sockets&gt;" in html
    assert linkcheck.broken_links(str(reports / "differences.html")) == []


def test_index_links_it_and_one_implementation_says_so(built):
    assert 'href="differences.html"' in (built / "index.html").read_text()
    html = (built / "differences.html").read_text()
    assert "Fewer than two implementations" in html
    assert linkcheck.broken_links(str(built / "index.html")) == []
