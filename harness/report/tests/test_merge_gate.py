"""Merging run files into results.json; the exit-code arithmetic of the gate."""
import json
import os
import shutil

import pytest

from apmreport import ReportError, gate, runfiles
from apmreport.catalogue import Baseline, Catalogue
from conftest import DATA, build, cli, cli_process


def test_merge_keeps_every_run_sorted_reference_first(reports):
    runs = runfiles.load_runs(str(reports / "runs"))
    doc = runfiles.merge(runs, Catalogue.load(os.path.join(DATA, "clauses.yaml")), contract_version="1.0")
    keys = [runfiles.run_key(r) for r in doc["runs"]]
    assert keys == [("reference", "harness", "documented"), ("reference", "harness", "portable"),
                    ("mono", "harness", "documented"), ("mono", "harness", "portable")]
    assert doc["contract_version"] == "1.0"
    assert sum(len(r["cases"]) for r in doc["runs"]) == 48


def test_merge_fills_level_and_name_from_other_sources(reports, tmp_path):
    run = json.loads((reports / "runs" / "reference-harness-documented.json").read_text())
    c_run = {"suite": "c", "implementation": {"id": "reference", "name": "reference", "version": None},
             "profile": "documented", "cases": [{"case_id": "ASYNC-07[x]", "clause": "ASYNC-07", "verdict": "PASS"}]}
    doc = runfiles.merge([run, c_run], Catalogue.load(os.path.join(DATA, "clauses.yaml")))
    c = [r for r in doc["runs"] if r["suite"] == "c"][0]
    assert c["cases"][0]["level"] == "INFO"
    assert c["implementation"]["name"] == "apmsock-reference"
    assert c["implementation"]["version"] == "0.1.0"
    assert "level" not in c_run["cases"][0]  # the caller's data is left alone


def test_two_files_for_one_run_are_an_error(reports):
    shutil.copy(reports / "runs" / "mono-harness-portable.json", reports / "runs" / "zz-copy.json")
    with pytest.raises(ReportError, match="are the same run"):
        runfiles.load_runs(str(reports / "runs"))


def test_a_broken_run_file_fails_the_build_with_exit_3_and_says_which(reports):
    shutil.copy(os.path.join(DATA, "broken", "truncated.json"), reports / "runs" / "broken-harness-documented.json")
    rc, out, err = build(reports)
    assert rc == 3
    assert "broken-harness-documented.json: not JSON" in err
    assert not (reports / "results.json").exists()  # nothing half-written


def test_no_run_at_all_still_renders(tmp_path):
    r = tmp_path / "reports"
    (r / "runs").mkdir(parents=True)
    rc, out, err = build(r)
    assert rc == 0, err
    assert "No run file" in (r / "index.html").read_text()


@pytest.mark.parametrize("codes, want", [
    ([], 0), ([0, 0], 0), ([0, 2], 2), ([2, 1], 1), ([1, 3], 3), ([3, 4, 1], 4), ([0, 139], 3),
])
def test_combine(codes, want):
    assert gate.combine(codes) == want


def test_cli_combine_writes_gate_json(tmp_path):
    rc, out, err = cli("combine", "c-suite=0", "harness-documented=2", "report=0", "--impl", "mono",
                       "--write", tmp_path / "gate.json")
    assert rc == 2
    g = json.loads((tmp_path / "gate.json").read_text())
    assert g["exit"] == 2 and g["meaning"] == "only unexpected passes" and g["steps"]["harness-documented"] == 2


def test_usage_error_is_exit_4():
    # the program itself: its exit status is the contract
    rc, out, err = cli_process("build", "--no-such-flag")
    assert rc == 4 and "usage error" in err


def test_baseline_formats(tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text("CONN-07[x]: {verdict: FAIL, mode: assertion, reason: r}\n")
    b = Baseline.load(str(p))
    assert b.lookup("harness", "documented", {"case_id": "CONN-07[x]", "clause": "CONN-07"})["reason"] == "r"
    p.write_text("expected: [{verdict: FAIL}]\n")
    with pytest.raises(ReportError, match="names no case_id or clause"):
        Baseline.load(str(p))
    p.write_text("expected: [\n")
    with pytest.raises(ReportError, match="not YAML"):
        Baseline.load(str(p))
    assert Baseline.load(str(tmp_path / "absent.yaml")).entries == []


def test_baseline_suite_and_profile_scoping():
    b = Baseline([{"clause": "CONN-07", "suite": "harness", "profile": "portable", "verdict": "FAIL"}], "b")
    case = {"case_id": "CONN-07[x]", "clause": "CONN-07"}
    assert b.lookup("harness", "portable", case) is not None
    assert b.lookup("harness", "documented", case) is None
    assert b.lookup("c", "portable", case) is None


def test_no_catalogue_file_lists_the_runs_clauses_in_family_order(reports):
    runs = runfiles.load_runs(str(reports / "runs"))
    cat = Catalogue.from_runs(runs)
    cited = {c["clause"] for r in runs for c in r["cases"]}
    assert set(cat.clauses) == cited
    fams = [f for f, _ in cat.families()]
    assert fams == [f for f in ("ARG", "ERR", "CONN", "BCAST", "SIZE", "FLAGS", "ASYNC", "END", "CANCEL",
                                "TRACE", "CTX", "SEC", "EX", "FAULT") if f in fams]
    assert all(rec["sentence"] == "" and rec["level"] in ("MUST", "SHOULD", "INFO")
               for rec in cat.clauses.values())
    rc, out, err = cli("build", "--reports", reports, "--catalogue", reports / "absent.yaml",
                       "--baselines", os.path.join(DATA, "baselines"))
    assert rc == 0 and "absent.yaml not found" in err
    assert "SIZE-01" in (reports / "clauses.html").read_text()


def test_a_malformed_catalogue_is_exit_3_and_names_the_record(reports, tmp_path):
    bad = tmp_path / "clauses.yaml"
    text = open(os.path.join(DATA, "clauses.yaml"), encoding="utf-8").read()
    bad.write_text(text.replace("level: MUST", "level: MAY", 1))
    with pytest.raises(ReportError, match=r"record 1 \(ARG-01\): level 'MAY'"):
        Catalogue.load(str(bad))
    rc, out, err = cli("build", "--reports", reports, "--catalogue", bad)
    assert rc == 3 and "record 1 (ARG-01): level 'MAY'" in err
    assert not (reports / "results.json").exists()  # nothing half-written


def test_a_baseline_the_harness_rejects_is_exit_3_for_the_report_too(reports, tmp_path):
    (tmp_path / "baselines").mkdir()
    (tmp_path / "baselines" / "mono.yaml").write_text(
        "expected:\n  - {clause: TRACE-01, verdict: UNSUPPORTED}\n")
    rc, out, err = cli("build", "--reports", reports, "--catalogue", os.path.join(DATA, "clauses.yaml"),
                       "--baselines", tmp_path / "baselines")
    assert rc == 3 and "mono.yaml: entry 1 (TRACE-01): every expected verdict needs a reason" in err
    assert not (reports / "results.json").exists()  # nothing half-written
    rc, out, err = cli("convert-check", os.path.join(DATA, "check-sample.xml"), "--impl", "mono",
                       "--baseline", tmp_path / "baselines" / "mono.yaml", "--out", tmp_path / "c.json")
    assert rc == 3 and "needs a reason" in err and not (tmp_path / "c.json").exists()
