"""JUnit per run (issue 10): valid against junit.xsd and Jenkins' junit-10.xsd, name = case ID,
classname = apmsock.<impl>.<suite>.<profile>.<FAMILY>, FAIL -> <failure> whose message is the
assertion and whose body holds the evidence and the reproducer, ERROR -> <error>."""
import glob
import os
import xml.etree.ElementTree as ET

from apmreport import junit
from conftest import build, cli


def test_one_junit_per_run_and_all_valid(built):
    files = sorted(glob.glob(str(built / "junit" / "*.xml")))
    assert [os.path.basename(f) for f in files] == [
        "harness-mono-documented.xml", "harness-mono-portable.xml",
        "harness-reference-documented.xml", "harness-reference-portable.xml"]
    for f in files:
        assert junit.validate(f) == []


def facts(tc):
    return junit.parse_header(tc.findtext("system-out"))


def test_shape_of_the_mono_documented_run(built):
    root = ET.parse(built / "junit" / "harness-mono-documented.xml").getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("12", "1", "1", "2")
    sprops = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert (sprops["implementation"], sprops["suite"], sprops["profile"]) == ("mono", "harness", "documented")
    by = {tc.get("name"): tc for tc in root.iter("testcase")}
    for name, tc in by.items():
        assert tc.find("properties") is None                  # Jenkins' strict schema refuses them
        assert tc.get("classname") == "apmsock.mono.harness.documented." + name.split("-")[0]
        assert facts(tc)["clause"] and facts(tc)["level"] in ("MUST", "SHOULD", "INFO")
    fail = by["CANCEL-01[tcp-v4]"].find("failure")
    assert fail is not None and fail.get("type") == "assertion"
    assert fail.get("message") == ("the operation completed with 65536 bytes after its thread exited; "
                                   "expected OperationAborted 995")
    assert "\nevidence:\n" in fail.text
    assert ("reproduce: harness/conform --impl mono --profile documented --case 'CANCEL-01[tcp-v4]'"
            in fail.text)
    err = by["CONN-07[udp-v6-send_to]"]
    assert err.find("error") is not None and err.find("failure") is None
    assert "SIGABRT" in err.find("error").text
    assert by["TRACE-01[udp-v4]"].find("skipped") is not None
    ns = by["SIZE-01[udp-v4-send_to]"]
    assert ns.find("failure") is None and ns.find("error") is None
    assert facts(ns)["verdict"] == "NON-STRICT"
    assert "begin_send_to" in by["ARG-01[begin_send]"].find("system-out").text


def test_a_multi_line_message_gives_its_first_line(tmp_path):
    run = {"suite": "harness", "profile": "portable",
           "implementation": {"id": "x", "name": "x", "version": None},
           "cases": [{"case_id": "CONN-07[a]", "clause": "CONN-07", "level": "MUST", "verdict": "FAIL",
                      "mode": "assertion", "signal": None, "duration_s": 0.1,
                      "message": "expected 5\n  got 4\n", "evidence": {}}]}
    path = junit.write_to(run, str(tmp_path / "j" / "x.xml"))
    assert junit.validate(path) == []
    tc = ET.parse(path).getroot().find("testsuite/testcase")
    assert tc.get("classname") == "apmsock.x.harness.portable.CONN"
    assert tc.find("failure").get("message") == "expected 5"
    assert "got 4" in tc.find("failure").text


def test_every_file_passes_jenkins_strict_schema_with_lxml(built):
    from lxml import etree
    schema = etree.XMLSchema(etree.parse(junit.JENKINS_XSD_PATH))
    for f in glob.glob(str(built / "junit" / "*.xml")):
        assert schema.validate(etree.parse(f)), (f, schema.error_log)
    # and the schema is strict where it matters: properties in a testcase, skipped on testsuites
    bad = etree.fromstring(b'<testsuites skipped="1"><testsuite tests="1"><testcase name="a">'
                           b'<properties><property name="k" value="v"/></properties>'
                           b'</testcase></testsuite></testsuites>')
    assert not schema.validate(bad)
    msgs = " ".join(e.message for e in schema.error_log)
    assert "properties" in msgs and "skipped" in msgs


def test_validate_catches_what_the_xsd_cannot(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<testsuites><testsuite name="s" tests="2" failures="0" errors="0">'
                   '<testcase name="a" classname="cases.test_conn"><system-out>apmsock: clause=CONN-07 '
                   'verdict=FAIL</system-out></testcase>'
                   '<testcase name="b"/></testsuite></testsuites>')
    errs = "\n".join(junit.validate(str(bad)))
    assert "classname" in errs                 # the XSD: classname is required
    assert "'cases.test_conn' is not apmsock.<impl>.<suite>.<profile>.<FAMILY>" in errs
    assert "no level" in errs
    assert "verdict FAIL wants failure" in errs


def test_a_producers_junit_is_replaced_by_the_one_from_the_run(reports):
    (reports / "junit").mkdir()
    stale = reports / "junit" / "harness-mono-documented.xml"
    stale.write_text('<testsuites><testsuite name="s" tests="1" failures="0" errors="0">'
                     '<testcase name="x" classname="cases.test_x"/></testsuite></testsuites>')
    rc, out, err = build(reports)
    assert rc == 0, err
    assert junit.validate(str(stale)) == []
    assert len(list(ET.parse(stale).getroot().iter("testcase"))) == 12


def test_cli_validate(built, tmp_path):
    rc, out, err = cli("validate", built / "junit" / "harness-mono-documented.xml", built / "results.json")
    assert rc == 0, err
    bad = tmp_path / "b.xml"
    bad.write_text("<testsuites><testsuite/></testsuites>")
    rc, out, err = cli("validate", bad)
    assert rc == 3 and "JUnit files not valid" in err


def test_the_c_suites_junit_from_check2junit_is_the_reports_own(tmp_path, data):
    """conformance/check2junit.py (make check-c) and apm-report (make conformance) write the
    C run's JUnit with one writer: the same case IDs, classnames and outcomes."""
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    mine = tmp_path / "junit" / "c-mono-documented.xml"
    p = subprocess.run([sys.executable, os.path.join(root, "conformance", "check2junit.py"), "--impl", "mono",
                        "--clauses", os.path.join(data, "clauses.yaml"),
                        os.path.join(data, "check-sample.xml"), str(mine)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert junit.validate(str(mine)) == []
    reports = tmp_path / "reports"
    rc, out, err = cli("convert-check", os.path.join(data, "check-sample.xml"), "--impl", "mono",
                       "--catalogue", os.path.join(data, "clauses.yaml"),
                       "--out", reports / "runs" / "mono-c-documented.json")
    assert rc in (0, 1), err
    rc, out, err = build(reports)
    assert rc == 0, err

    def shape(path):
        return sorted((tc.get("name"), tc.get("classname"),
                       tuple(k for k in ("failure", "error", "skipped") if tc.find(k) is not None))
                      for tc in ET.parse(path).getroot().iter("testcase"))
    theirs = reports / "junit" / "c-mono-documented.xml"
    assert shape(mine) == shape(theirs)
    names = [s[0] for s in shape(mine)]
    assert all(n[:n.index("-")].isupper() and not n.startswith("test_") for n in names), names[:5]
    assert {s[1].rsplit(".", 1)[0] for s in shape(mine)} == {"apmsock.mono.c.documented"}
