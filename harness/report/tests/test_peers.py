"""peers.html: each peer-suite test with its cases' verdicts per implementation (issue 12)."""
import re

from apmreport import linkcheck
from conftest import build

PEERS = """suites:
  dotnet: {repository: "dotnet/runtime <tests>", scope: "what was read"}
  wine: {repository: wine-mirror/wine, scope: "sock.c"}
peers:
  - {suite: dotnet, file: F.cs, test: "SendTo<T>.Oversize", cases: [test_SIZE_01]}
  - {suite: dotnet, file: F.cs, test: ThreadExit, cases: [test_CANCEL_01_tcp]}
  - {suite: dotnet, file: F.cs, test: NullBuffer, cases: [test_ARG_table]}
  - {suite: dotnet, file: F.cs, test: NeverRan, cases: [test_EX_01_example]}
  - {suite: wine, file: sock.c, test: test_icmp, excluded: "out of scope: raw <b>ICMP</b> & more"}
"""


def _row(html, test):
    m = re.search(r'<tr data-test="%s">(.*?)</tr>' % re.escape(test), html, re.S)
    assert m, "no row for %s" % test
    return m.group(1)


def _verdict(row, impl):
    m = re.search(r'data-impl="%s" data-verdict="([^"]+)"' % impl, row)
    return m.group(1) if m else None


def test_each_peer_test_shows_its_cases_verdicts_or_its_exclusion(reports, tmp_path):
    fixtures = tmp_path / "fixtures"
    (fixtures / "cases").mkdir(parents=True)
    (fixtures / "peers.yaml").write_text(PEERS)
    (fixtures / "cases" / "arg.yaml").write_text("rows:\n  - {clause: ARG-01, name: null_buffer}\n")
    rc, out, err = build(reports, "--peers", fixtures / "peers.yaml")
    assert rc == 0, err
    html = (reports / "peers.html").read_text()
    oversize = _row(html, "SendTo&lt;T&gt;.Oversize")
    assert (_verdict(oversize, "reference"), _verdict(oversize, "mono")) == ("PASS", "NON-STRICT")
    assert "Mono throws MessageSize from BeginSendTo" in oversize   # the baseline's reason
    assert _verdict(_row(html, "ThreadExit"), "mono") == "FAIL"     # prefix CANCEL-01[tcp
    assert _verdict(_row(html, "NullBuffer"), "mono") == "PASS"     # table: ARG-01's cases
    assert "no case ran" in _row(html, "NeverRan") and _verdict(_row(html, "NeverRan"), "mono") == "none"
    excluded = _row(html, "test_icmp")
    assert "out of scope: raw &lt;b&gt;ICMP&lt;/b&gt; &amp; more" in excluded and "<b>ICMP" not in html
    assert "dotnet/runtime &lt;tests&gt;" in html
    assert "4 covered, 0 excluded" in html and "1 test(s), 0 covered, 1 excluded" in html
    assert 'href="peers.html"' in (reports / "index.html").read_text()
    assert linkcheck.broken_links(str(reports / "peers.html")) == []


def test_without_a_peer_map_the_page_says_so(reports, tmp_path):
    rc, out, err = build(reports, "--peers", tmp_path / "absent.yaml")
    assert rc == 0, err
    assert "No peer map" in (reports / "peers.html").read_text()


def test_a_malformed_peer_map_is_a_clear_error(reports, tmp_path):
    bad = tmp_path / "peers.yaml"
    bad.write_text("peers: {not: a list}\n")
    rc, out, err = build(reports, "--peers", bad)
    assert rc != 0 and "peers.yaml" in err and "Traceback" not in err
    assert not (reports / "index.html").exists()
