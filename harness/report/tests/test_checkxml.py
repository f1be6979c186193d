"""Check XML of the C suite -> a run file (the sample is real Check 0.15 output)."""
import os

import pytest

from apmreport import ReportError, checkxml, gate, runfiles
from apmreport.catalogue import Baseline, Catalogue
from conftest import DATA, cli

SAMPLE = os.path.join(DATA, "check-sample.xml")


@pytest.mark.parametrize("name, want", [
    ("test_CONN_07_udp_v6", ("CONN-07", "udp_v6")),
    ("test_ARG_01", ("ARG-01", "")),
    ("test_CANCEL_04_close_pending_tcp", ("CANCEL-04", "close_pending_tcp")),
    ("test_TRACE_01_on", ("TRACE-01", "on")),
    ("test_conn_07_udp", None),
    ("test_CONN_7_udp", None),
    ("helper_CONN_07", None),
    ("test_BOGUS_01_x", None),
])
def test_parse_name(name, want):
    assert checkxml.parse_name(name) == want


def _run():
    cat = Catalogue.load(os.path.join(DATA, "clauses.yaml"))
    return checkxml.convert([SAMPLE], "reference", catalogue=cat)


def test_verdicts_modes_and_signals():
    run = _run()
    runfiles.validate_run(run, "converted")
    by = {c["case_id"]: c for c in run["cases"]}
    assert by["CONN-07[udp_v6]"]["verdict"] == "PASS"
    assert by["CONN-07[udp_v6]"]["level"] == "MUST"
    assert (by["SIZE-01[udp_v4]"]["verdict"], by["SIZE-01[udp_v4]"]["mode"]) == ("FAIL", "assertion")
    assert "MessageSize 10040 & <x>" in by["SIZE-01[udp_v4]"]["message"]
    seg = by["ARG-01[null_buffer]"]
    assert (seg["verdict"], seg["mode"], seg["signal"]) == ("ERROR", "crash", "SIGSEGV")
    assert (by["ASYNC-05[pending]"]["verdict"], by["ASYNC-05[pending]"]["mode"]) == ("ERROR", "timeout")
    assert (by["END-03[twice]"]["mode"], by["END-03[twice]"]["signal"]) == ("crash", None)
    assert by["SIZE-01[udp_v4]"]["duration_s"] is None  # Check writes -1 for a failed test


def test_loop_tests_get_one_case_per_iteration():
    ids = [c["case_id"] for c in _run()["cases"] if c["clause"] == "ARG-06"]
    assert ids == ["ARG-06[bounds#4]", "ARG-06[bounds#5]", "ARG-06[bounds#6]"]


def test_reference_gate_sees_every_difference():
    run = _run()
    code = gate.evaluate(run, Baseline([], None))
    assert code == gate.EXIT_REGRESSION  # a crash under a test is the implementation's regression
    assert len(run["gate"]["differences"]) == 6


def test_baseline_turns_known_failures_into_a_match():
    run = _run()
    entries = [{"case_id": c["case_id"], "verdict": c["verdict"], "mode": c["mode"], "reason": "known"}
               for c in run["cases"] if c["verdict"] != "PASS"]
    assert gate.evaluate(run, Baseline(entries, "b.yaml")) == gate.EXIT_MATCH
    assert run["gate"]["status"] == "match"


def test_changed_mode_is_a_regression():
    run = _run()
    entries = [{"case_id": "SIZE-01[udp_v4]", "verdict": "FAIL", "mode": "timeout", "reason": "r"}]
    run["cases"] = [c for c in run["cases"] if c["case_id"] in ("SIZE-01[udp_v4]", "CONN-07[udp_v6]")]
    assert gate.evaluate(run, Baseline(entries, "b")) == gate.EXIT_REGRESSION


def test_unexpected_pass():
    run = _run()
    run["cases"] = [c for c in run["cases"] if c["case_id"] == "CONN-07[udp_v6]"]
    entries = [{"clause": "CONN-07", "verdict": "FAIL", "mode": "assertion", "reason": "r"}]
    assert gate.evaluate(run, Baseline(entries, "b")) == gate.EXIT_UNEXPECTED_PASS
    assert run["gate"]["status"] == "unexpected_pass"


def test_truncated_xml_is_a_clear_error():
    with pytest.raises(ReportError, match="truncated-check.xml: not well-formed XML"):
        checkxml.convert([os.path.join(DATA, "broken", "truncated-check.xml")], "reference")


def test_test_without_clause_is_an_error(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text(open(SAMPLE).read().replace("test_CONN_07_udp_v6", "test_udp_works"))
    with pytest.raises(ReportError, match="cite no clause.*test_udp_works"):
        checkxml.convert([str(bad)], "reference")


def test_junit_is_not_mistaken_for_check(tmp_path):
    j = tmp_path / "j.xml"
    j.write_text('<?xml version="1.0"?><testsuite name="x" tests="0" failures="0" errors="0"/>')
    with pytest.raises(ReportError, match="not a Check XML log"):
        checkxml.convert([str(j)], "reference")


def test_cli_convert_writes_a_valid_run_and_exits_with_the_gate(tmp_path):
    out = tmp_path / "runs" / "reference-c-documented.json"
    rc, so, se = cli("convert-check", SAMPLE, "--impl", "reference", "--out", out,
                     "--catalogue", os.path.join(DATA, "clauses.yaml"))
    assert rc == 1, se
    run = runfiles.load_run(str(out))
    assert run["suite"] == "c" and run["gate"]["status"] == "regression"
    assert {"case_id": "ARG-01[null_buffer]", "expected": "PASS", "actual": "ERROR/crash",
            "reason": "new non-PASS verdict: Received signal 11 (Segmentation fault)"} in run["gate"]["differences"]


def test_cli_convert_missing_file_is_exit_3(tmp_path):
    rc, so, se = cli("convert-check", tmp_path / "nope.xml", "--impl", "reference", "--out", tmp_path / "o.json")
    assert rc == 3 and "no such Check XML file" in se
    assert not (tmp_path / "o.json").exists()


def test_tests_missing_from_the_log_become_errors(tmp_path):
    lst = tmp_path / "list.txt"
    lst.write_text("CONN\ttest_CONN_07_udp_v6\nCANCEL\ttest_CANCEL_04_close_tcp\n")
    run = checkxml.convert([SAMPLE], "reference", expect_list=str(lst))
    by = {c["case_id"]: c for c in run["cases"]}
    miss = by["CANCEL-04[close_tcp]"]
    assert (miss["verdict"], miss["mode"]) == ("ERROR", "crash")
    assert "missing from the Check log" in miss["message"]
    runfiles.validate_run(run, "with missing")


def test_info_log_lines_join_their_case(tmp_path):
    log = tmp_path / "info.log"
    log.write_text("INFO CONN-07 test_CONN_07_udp_v6: LocalEndPoint 127.0.0.1:4711\nnoise\n")
    run = checkxml.convert([SAMPLE], "reference", info_log=str(log))
    c = [c for c in run["cases"] if c["case_id"] == "CONN-07[udp_v6]"][0]
    assert c["evidence"]["timeline"] == [{"t": None, "what": "recorded: LocalEndPoint 127.0.0.1:4711"}]


def test_cli_convert_refuses_a_baseline_with_placeholder_reasons(tmp_path):
    """The C suite's gate refuses --write-baseline's placeholder as the harness's does."""
    from apmsock_harness.baseline import PLACEHOLDER
    b = tmp_path / "b.yaml"
    b.write_text('expected:\n  - {case_id: "ARG-01[null_buffer]", verdict: ERROR, suite: c, reason: "%s"}\n'
                 % PLACEHOLDER)
    out = tmp_path / "runs" / "reference-c-documented.json"
    rc, so, se = cli("convert-check", SAMPLE, "--impl", "reference", "--out", out, "--baseline", b,
                     "--catalogue", os.path.join(DATA, "clauses.yaml"))
    assert rc == 4 and "ARG-01[null_buffer]" in se and "placeholder" in se and not out.exists(), se
