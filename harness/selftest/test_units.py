"""Unit tests of the harness's own logic: protocol parsing, verdicts and
profiles, baselines and the gate, the catalogue and its lint."""
import os
import textwrap
import threading

import pytest

from apmsock_harness import baseline, catalogue
from apmsock_harness.adapter import parse_line, signal_name
from apmsock_harness.files import write_file
from apmsock_harness.verdict import Judge, worst

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


# ---------------------------------------------------------------- protocol
@pytest.mark.parametrize("line,kind", [
    ('{"id": 1, "ok": true, "result": {"socket": "s1"}}', "reply"),
    ('{"id": 2, "ok": false, "error": {"type": "System.ArgumentNullException"}}', "reply"),
    ('{"id": 3, "ok": false, "unsupported": "no ipv6"}', "reply"),
    ('{"id": 4, "ok": false, "protocol_error": "bad"}', "reply"),
    ('{"event": "callback", "seq": 1, "result": "r1", "thread": "tid:2"}', "event"),
    ('{"event": "trace", "record": {}}', "event"),
    ('{"id": null, "ok": false, "protocol_error": "not JSON"}', "unaddressed"),
])
def test_parse_line_accepts_protocol_lines(line, kind):
    assert parse_line(line)[0] == kind


@pytest.mark.parametrize("line,why", [
    ("Segmentation fault", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ('"text"', "not a JSON object"),
    ('{"id": 0, "ok": true}', "positive"),
    ('{"id": "7", "ok": true}', "positive"),
    ('{"id": true, "ok": true}', "positive"),
    ('{"id": 5}', "boolean"),
    ('{"id": 5, "ok": false}', "without error"),
    ('{"id": 5, "ok": false, "error": "oops"}', "must be an object"),
    ('{"id": 5, "ok": true, "result": [1]}', "must be an object"),
    ('{"hello": 1}', "neither"),
    ('{"id": null, "ok": true, "result": {}}', "positive"),
])
def test_parse_line_rejects_garbage(line, why):
    with pytest.raises(ValueError, match=why):
        parse_line(line)


def test_signal_name():
    assert signal_name(-11) == "SIGSEGV"
    assert signal_name(-6) == "SIGABRT"
    assert signal_name(0) is None and signal_name(3) is None and signal_name(None) is None


# ---------------------------------------------------------------- verdicts
def _judge(profile, documented_ok, portable_ok):
    j = Judge(profile)

    def fn(p):
        assert (documented_ok if p == "documented" else portable_ok), "fails %s" % p
    j.check(fn)
    return j.verdict


def test_verdict_documented_profile():
    assert _judge("documented", True, True) == "PASS"
    assert _judge("documented", False, True) == "NON-STRICT"
    with pytest.raises(AssertionError, match="fails documented"):
        _judge("documented", False, False)


def test_verdict_portable_profile():
    assert _judge("portable", False, True) == "PASS"
    with pytest.raises(AssertionError, match="fails portable"):
        _judge("portable", True, False)


def test_verdict_nonstrict_keeps_the_documented_message():
    j = Judge("documented")
    j.check(lambda p: None)
    j.check(lambda p: (_ for _ in ()).throw(AssertionError("from End")) if p == "documented" else None)
    assert j.verdict == "NON-STRICT" and j.nonstrict == ["from End"]


def test_unknown_profile_is_an_error():
    with pytest.raises(ValueError, match="unknown profile"):
        Judge("lenient")


def test_worst():
    assert worst([]) == "PASS"
    assert worst(["PASS", "NON-STRICT", "SKIP"]) == "NON-STRICT"
    assert worst(["FAIL", "ERROR", "PASS"]) == "ERROR"


# ---------------------------------------------------------------- baselines
def _case(cid, verdict, mode=None):
    return {"case_id": cid, "clause": cid.split("[")[0], "verdict": verdict, "mode": mode, "message": "m"}


def test_gate_empty_baseline():
    assert baseline.compare([_case("A-01[x]", "PASS")], [], "documented") == ("match", [])
    status, diffs = baseline.compare([_case("A-01[x]", "FAIL", "assertion")], [], "documented")
    assert status == "regression" and diffs[0]["expected"] == "PASS"


def test_gate_expected_failure_matches():
    entries = [{"case_id": "A-01[x]", "verdict": "FAIL", "mode": "assertion", "reason": "r"}]
    assert baseline.compare([_case("A-01[x]", "FAIL", "assertion")], entries, "documented")[0] == "match"


def test_gate_changed_mode_is_a_regression():
    entries = [{"case_id": "A-01[x]", "verdict": "ERROR", "mode": "timeout", "reason": "r"}]
    status, diffs = baseline.compare([_case("A-01[x]", "ERROR", "crash")], entries, "documented")
    assert status == "regression" and diffs[0]["actual"] == "ERROR/crash"


def test_gate_changed_verdict_is_a_regression():
    entries = [{"case_id": "A-01[x]", "verdict": "NON-STRICT", "reason": "r"}]
    assert baseline.compare([_case("A-01[x]", "FAIL", "assertion")], entries, "documented")[0] == "regression"


def test_gate_unexpected_pass():
    entries = [{"case_id": "A-01[x]", "verdict": "FAIL", "reason": "r"}]
    status, diffs = baseline.compare([_case("A-01[x]", "PASS")], entries, "documented")
    assert status == "unexpected_pass" and diffs[0]["actual"] == "PASS"


def test_gate_regression_wins_over_unexpected_pass():
    entries = [{"case_id": "A-01[x]", "verdict": "FAIL", "reason": "r"}]
    cases = [_case("A-01[x]", "PASS"), _case("A-02[y]", "FAIL", "assertion")]
    assert baseline.compare(cases, entries, "documented")[0] == "regression"


def test_gate_clause_entry_and_exact_entry():
    entries = [{"clause": "A-01", "verdict": "NON-STRICT", "reason": "all"},
               {"case_id": "A-01[y]", "verdict": "FAIL", "mode": "assertion", "reason": "one"}]
    cases = [_case("A-01[x]", "NON-STRICT"), _case("A-01[y]", "FAIL", "assertion")]
    assert baseline.compare(cases, entries, "documented")[0] == "match"


def test_gate_profile_and_suite_filters():
    entries = [{"case_id": "A-01[x]", "verdict": "NON-STRICT", "profile": "documented", "reason": "r"},
               {"case_id": "A-02[x]", "verdict": "FAIL", "suite": "c", "reason": "c only"}]
    assert baseline.compare([_case("A-01[x]", "PASS")], entries, "portable")[0] == "match"
    assert baseline.compare([_case("A-02[x]", "PASS")], entries, "documented")[0] == "match"


def test_baseline_files_load(tmp_path):
    for name in os.listdir(os.path.join(ROOT, "fixtures", "baselines")):
        baseline.load(os.path.join(ROOT, "fixtures", "baselines", name))
    p = tmp_path / "b.yaml"
    p.write_text("expected:\n  - {case_id: 'A-01[x]', verdict: FAIL}\n")
    with pytest.raises(baseline.BaselineError, match="needs a reason"):
        baseline.load(str(p))
    p.write_text("expected:\n  - {case_id: 'A-01[x]', verdict: PASS, reason: r}\n")
    with pytest.raises(baseline.BaselineError, match="verdict must be"):
        baseline.load(str(p))
    p.write_text("expected:\n  - {verdict: FAIL, reason: r}\n")
    with pytest.raises(baseline.BaselineError, match="exactly one of case_id or clause"):
        baseline.load(str(p))


@pytest.mark.parametrize("text", [
    "expected:\n  - {case_id: 'A-01[x]', verdict: FAIL, reason: r}\n",
    "implementation: m\ncases:\n  - {case: 'A-01[x]', verdict: FAIL, reason: r}\n",
    "- {case_id: 'A-01[x]', verdict: FAIL, reason: r}\n",
    "implementation: m\n'A-01[x]': {verdict: FAIL, reason: r}\n",
    "expected:\n  'A-01[x]': {verdict: FAIL, reason: r}\n",
])
def test_baseline_every_shape_reads_alike(tmp_path, text):
    # The report reads baselines through this loader too: one set of accepted files.
    p = tmp_path / "b.yaml"
    p.write_text(text)
    entries = baseline.load(str(p))
    assert [(e["case_id"], e["verdict"], e["reason"]) for e in entries] == [("A-01[x]", "FAIL", "r")]
    assert baseline.compare([_case("A-01[x]", "FAIL", "assertion")], entries, "documented")[0] == "match"


@pytest.mark.parametrize("text,msg", [
    ("expected:\n  - {case_id: 'A-01[x]', clause: A-01, verdict: FAIL, reason: r}\n", "entry 1: names both"),
    ("expected:\n  - {verdict: FAIL, reason: r}\n", "entry 1: names no case_id or clause"),
    ("'A-01[x]': FAIL\n", "A-01\\[x\\]: expected a mapping"),
    ("expected: 3\n", "'expected' must be a list"),
    ("expected: [\n", "not YAML"),
])
def test_baseline_malformed_says_where(tmp_path, text, msg):
    p = tmp_path / "b.yaml"
    p.write_text(text)
    with pytest.raises(baseline.BaselineError, match=msg):
        baseline.load(str(p))


def test_baseline_unreadable(tmp_path):
    with pytest.raises(baseline.BaselineError, match="no such baseline"):
        baseline.load(str(tmp_path / "absent.yaml"))
    with pytest.raises(baseline.BaselineError, match="cannot read"):
        baseline.load(str(tmp_path))


# ---------------------------------------------------------------- catalogue
def test_catalogue_loads_and_quotes_verbatim():
    seeds = os.environ.get("APMSOCK_SEEDS")  # the seed pages are outside the project (.ci/run)
    cat = catalogue.load(catalogue.default_path(ROOT), seeds if seeds and os.path.isdir(seeds) else None)
    assert len(cat) == 75
    assert cat["ARG-09"].level == cat["ASYNC-07"].level == cat["FLAGS-02"].level == "INFO"
    assert cat["ERR-05"].level == "SHOULD"
    assert cat["CANCEL-03"].sentence == cat["CANCEL-04"].sentence == "(derived)"


def test_catalogue_document_has_the_seeds_and_plain_records():
    seeds, cat = catalogue.load_document(catalogue.default_path(ROOT))
    assert sorted(seeds) == ["BeginSend.txt", "BeginSendTo.txt"]
    rec = cat["CONN-07"].as_dict()
    assert rec["id"] == "CONN-07" and rec["family"] == "CONN" and rec["level"] == cat["CONN-07"].level
    assert set(rec) == set(catalogue.Clause.__slots__)
    assert list(catalogue.load(catalogue.default_path(ROOT))) == list(cat)


BAD = {
    "no_id": ("- {family: ARG, sentence: x, level: MUST, seed: [s.txt], expectation: {documented: d}}",
              "record 1 (no id): missing field 'id'"),
    "bad_level": ("- {id: ARG-01, family: ARG, sentence: x, level: MAY, seed: [s.txt], expectation: {documented: d}}",
                  "record 1 (ARG-01): level 'MAY'"),
    "family": ("- {id: ARG-01, family: ERR, sentence: x, level: MUST, seed: [s.txt], expectation: {documented: d}}",
               "record 1 (ARG-01): family 'ERR'"),
    "not_verbatim": ("- {id: ARG-01, family: ARG, sentence: 'nowhere', level: MUST, seed: [s.txt], expectation: {documented: d}}",
                     "not verbatim in s.txt"),
    "unknown_seed": ("- {id: ARG-01, family: ARG, sentence: x, level: MUST, seed: [t.txt], expectation: {documented: d}}",
                     "seed 't.txt' is not listed"),
    "profile": ("- {id: ARG-01, family: ARG, sentence: x, level: MUST, seed: [s.txt], expectation: {documented: d, lax: e}}",
                "unknown profile 'lax'"),
    "derived_with_seed": ("- {id: ARG-01, family: ARG, sentence: '(derived)', level: MUST, seed: [s.txt], expectation: {documented: d}}",
                          "cites no seed"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_catalogue_names_the_record(tmp_path, name):
    rec, msg = BAD[name]
    (tmp_path / "s.txt").write_text("x marks the spot")
    p = tmp_path / "clauses.yaml"
    p.write_text("seeds: {s.txt: seed}\nclauses:\n" + textwrap.indent(rec, "  ") + "\n")
    with pytest.raises(catalogue.CatalogueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        catalogue.load(str(p), str(tmp_path))


def test_duplicate_and_not_yaml(tmp_path):
    rec = "  - {id: ARG-01, family: ARG, sentence: x, level: MUST, seed: [s.txt], expectation: {documented: d}}\n"
    p = tmp_path / "clauses.yaml"
    p.write_text("seeds: {s.txt: seed}\nclauses:\n" + rec + rec)
    with pytest.raises(catalogue.CatalogueError, match=r"record 2 \(ARG-01\): duplicate id"):
        catalogue.load(str(p))
    p.write_text("clauses: [unclosed\n")
    with pytest.raises(catalogue.CatalogueError, match="not valid YAML"):
        catalogue.load(str(p))


def test_write_file_never_replaces_a_device_or_fifo(tmp_path):
    """An output path of /dev/null or a FIFO is written in place: an atomic
    rename over it would turn the device into a regular file."""
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, encoding="utf-8").read()))
    reader.start()
    write_file(str(fifo), "results\n")
    reader.join(timeout=10)
    assert not reader.is_alive(), "the FIFO's reader got no end of file"
    assert got == ["results\n"]
    assert not os.path.isfile(fifo), "the FIFO was replaced by a regular file"
    regular = tmp_path / "sub" / "run.json"
    write_file(str(regular), "{}")
    assert regular.read_text() == "{}"
    assert [p.name for p in regular.parent.iterdir()] == ["run.json"], "a temporary file was left behind"
