"""results.schema.json: the run files and results.json are checked against it (and it can fail)."""
import glob
import json
import os

import jsonschema
import pytest

from apmreport import ReportError, runfiles
from conftest import DATA, build


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(runfiles.schema())


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(DATA, "runs", "*.json"))))
def test_every_synthetic_run_file_is_valid(path):
    runfiles.load_run(path)


def test_results_json_of_a_build_is_valid(reports):
    rc, out, err = build(reports)
    assert rc == 0, err
    doc = json.loads((reports / "results.json").read_text())
    jsonschema.Draft202012Validator(runfiles.schema()).validate(doc)
    assert doc["schema_version"] == "1"
    assert len(doc["runs"]) == 4


def _case(**kw):
    c = {"case_id": "CONN-07[x]", "clause": "CONN-07", "verdict": "PASS"}
    c.update(kw)
    return {"suite": "harness", "implementation": {"id": "x"}, "profile": "documented", "cases": [c]}


REJECTED = [
    (_case(verdict="MAYBE"), "verdict"),
    (_case(clause="CONN-7"), "clause"),
    (_case(clause="FOO-01"), "clause"),
    (_case(verdict="FAIL"), "mode"),            # FAIL says how it failed
    (_case(verdict="ERROR", mode=None), "mode"),
    (_case(mode="assertion", signal="SIGSEGV"), "signal"),  # only a crash has a signal
    (_case(duration_s=-1), "duration"),
    ({"suite": "nope", "implementation": {"id": "x"}, "profile": "documented", "cases": []}, "suite"),
    ({"suite": "c", "implementation": {"id": "x y"}, "profile": "documented", "cases": []}, "id"),
]


@pytest.mark.parametrize("bad, why", REJECTED)
def test_schema_rejects(bad, why):
    with pytest.raises(ReportError) as e:
        runfiles.validate_run(bad, "synthetic")
    assert "synthetic" in str(e.value)


@pytest.mark.parametrize("bad, why", REJECTED)
def test_fast_and_full_validators_agree(bad, why):
    """The fast path (fastjsonschema, draft 7) must reject what jsonschema
    (2020-12) rejects: a document it let through would never be looked at
    again."""
    fast = runfiles._fastjsonschema()
    if fast is None:
        pytest.skip("python3-fastjsonschema is not installed")
    full = list(runfiles._validator("#/$defs/run").iter_errors(bad))
    assert full, why
    with pytest.raises(fast.JsonSchemaException):
        runfiles._fast_validator("#/$defs/run")(bad)


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(DATA, "runs", "*.json"))))
def test_fast_validator_accepts_what_jsonschema_accepts(path):
    if runfiles._fastjsonschema() is None:
        pytest.skip("python3-fastjsonschema is not installed")
    with open(path) as f:
        runfiles._fast_validator("#/$defs/run")(json.load(f))


def test_schema_accepts_a_crash_with_signal():
    runfiles.validate_run(_case(verdict="ERROR", mode="crash", signal="SIGSEGV"), "ok")


def test_duplicate_case_id_is_an_error():
    with pytest.raises(ReportError, match="appears twice"):
        runfiles.load_run(os.path.join(DATA, "broken", "duplicate.json"))


def test_truncated_json_names_the_file_and_position():
    with pytest.raises(ReportError, match=r"truncated.json: not JSON: .*line 1"):
        runfiles.load_run(os.path.join(DATA, "broken", "truncated.json"))


def test_schema_violation_lists_where():
    with pytest.raises(ReportError) as e:
        runfiles.load_run(os.path.join(DATA, "broken", "schema.json"))
    msg = str(e.value)
    assert "cases/0/clause" in msg and "cases/0/verdict" in msg
