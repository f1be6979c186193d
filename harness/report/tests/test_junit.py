"""JUnit per run: valid against junit.xsd, FAIL -> <failure>, ERROR -> <error>, clause and level properties."""
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


def test_shape_of_the_mono_documented_run(built):
    root = ET.parse(built / "junit" / "harness-mono-documented.xml").getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("12", "1", "1", "2")
    by = {tc.get("name"): tc for tc in root.iter("testcase")}
    for tc in by.values():
        assert tc.get("name") and tc.get("classname")
        props = {p.get("name"): p.get("value") for p in tc.findall("properties/property")}
        assert props["clause"] and props["level"] in ("MUST", "SHOULD", "INFO")
    fail = by["CANCEL-01[tcp-v4]"]
    assert fail.find("failure") is not None and fail.find("failure").get("type") == "assertion"
    err = by["CONN-07[udp-v6-send_to]"]
    assert err.find("error") is not None and err.find("failure") is None
    assert "SIGABRT" in err.find("error").text
    assert by["TRACE-01[udp-v4]"].find("skipped") is not None
    ns = by["SIZE-01[udp-v4-send_to]"]
    assert ns.find("failure") is None and ns.find("error") is None
    assert {p.get("name"): p.get("value") for p in ns.findall("properties/property")}["verdict"] == "NON-STRICT"
    assert "begin_send_to" in by["ARG-01[begin_send]"].find("system-out").text


def test_validate_catches_what_the_xsd_cannot(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<testsuites><testsuite name="s" tests="2" failures="0" errors="0">'
                   '<testcase name="a" classname="c"><properties><property name="clause" value="CONN-07"/>'
                   '<property name="verdict" value="FAIL"/></properties></testcase>'
                   '<testcase name="b"/></testsuite></testsuites>')
    errs = "\n".join(junit.validate(str(bad)))
    assert "classname" in errs                 # the XSD: classname is required
    assert "no property level" in errs
    assert "verdict FAIL wants failure" in errs


def test_a_producers_incomplete_junit_is_rewritten(reports):
    (reports / "junit").mkdir()
    stale = reports / "junit" / "harness-mono-documented.xml"
    stale.write_text('<testsuites><testsuite name="s" tests="1" failures="0" errors="0">'
                     '<testcase name="x" classname="y"/></testsuite></testsuites>')
    rc, out, err = build(reports)
    assert rc == 0, err
    assert "rewritten" in err
    assert junit.validate(str(stale)) == []
    assert len(list(ET.parse(stale).getroot().iter("testcase"))) == 12


def test_a_producers_valid_junit_is_kept(built):
    path = built / "junit" / "harness-reference-documented.xml"
    text = path.read_text().replace("apmsock.reference.harness", "producer.reference.harness")
    path.write_text(text)
    rc, out, err = build(built)
    assert rc == 0, err
    assert "producer.reference.harness" in path.read_text()


def test_cli_validate(built, tmp_path):
    rc, out, err = cli("validate", built / "junit" / "harness-mono-documented.xml", built / "results.json")
    assert rc == 0, err
    bad = tmp_path / "b.xml"
    bad.write_text("<testsuites><testsuite/></testsuites>")
    rc, out, err = cli("validate", bad)
    assert rc == 3 and "not valid against harness/report/junit.xsd" in err


def test_a_producers_junit_that_calls_an_error_a_failure_is_rewritten(built):
    path = built / "junit" / "harness-mono-documented.xml"
    text = path.read_text()
    # what pytest's junitxml does: every broken test is a <failure>
    text = text.replace("<error ", "<failure ").replace("</error>", "</failure>")
    text = text.replace('name="verdict" value="ERROR"', 'name="outcome" value="ERROR"')
    path.write_text(text)
    assert junit.validate(str(path)) == []  # valid on its face
    rc, out, err = build(built)
    assert rc == 0 and "rewritten from the run file (CONN-07[udp-v6-send_to]: verdict ERROR but ['failure']" in err
    tc = [t for t in ET.parse(path).getroot().iter("testcase") if t.get("name") == "CONN-07[udp-v6-send_to]"][0]
    assert tc.find("error") is not None and tc.find("failure") is None
