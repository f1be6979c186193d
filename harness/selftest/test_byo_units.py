"""Unit tests of bringing your own implementation (issue 10): implementations
outside the suite, baselines by command, intermittent expectations, failure
signatures, partial runs and shards, repetitions, the shard merge."""
import json
import os
import sys
import textwrap

import pytest

from apmsock_harness import baseline, baseline_write, registry, repeat, selection, signature
from apmsock_harness.verdict import Judge

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "harness", "report"))
from apmreport import ReportError, merge  # noqa: E402
from apmreport.html_index import _partial  # noqa: E402


def case(cid, verdict="PASS", mode=None, sig=None, clause=None):
    return {"case_id": cid, "clause": clause or cid.split("[")[0], "verdict": verdict, "mode": mode,
            "signature": sig, "message": "m"}


# ---------------------------------------------------------------- 1. outside the suite
def test_impl_file_paths_resolve_against_its_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    f = tmp_path / "sub" / "mine.yaml"
    f.write_text('adapter: "bin/adapter"\ncommand: ["{adapter}", "--x"]\nbaseline: "b.yaml"\nfeatures: [trace_env]\n')
    impl = registry.resolve(ROOT, impl_file=str(f))
    assert impl.name == "mine" and impl.outside
    assert impl.argv == [str(tmp_path / "sub" / "bin" / "adapter"), "--x"]
    assert impl.cwd == str(tmp_path / "sub") and impl.baseline == str(tmp_path / "sub" / "b.yaml")
    assert impl.features == {"trace_env"} and impl.source == {"impl_file": str(f)}
    assert "does not exist" in registry.program_missing(impl)
    assert registry.resolve(ROOT, impl="other", impl_file=str(f)).name == "other"


def test_impl_file_and_adapter_cmd_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("command: nope\n")
    with pytest.raises(registry.RegistryError, match="command"):
        registry.resolve(ROOT, impl_file=str(bad))
    with pytest.raises(registry.RegistryError, match="cannot read"):
        registry.resolve(ROOT, impl_file=str(tmp_path / "absent.yaml"))
    with pytest.raises(registry.RegistryError, match="unbalanced|quotation"):
        registry.resolve(ROOT, impl="x", adapter_cmd="'open")
    impl = registry.resolve(ROOT, impl="x", adapter_cmd="python3 -u 'my adapter.py'")
    assert impl.argv == ["python3", "-u", "my adapter.py"] and impl.outside and impl.features == set()
    # a registered name keeps its features and baseline; only the command changes
    ref = registry.resolve(ROOT, impl="reference", adapter_cmd="/x/wrapper")
    assert not ref.outside and "trace_env" in ref.features


# ---------------------------------------------------------------- 2. baselines by command
def test_write_baseline_has_placeholders_the_gate_refuses(tmp_path):
    p = str(tmp_path / "b.yaml")
    changes = baseline_write.write(p, "mine", [case("A-01[x]", "FAIL", "assertion", "s1"), case("A-01[y]")],
                                   "documented")
    assert len(changes) == 1 and changes[0].startswith("+ A-01[x]")
    entries = baseline.load(p)
    assert entries == [{"case_id": "A-01[x]", "verdict": "FAIL", "mode": "assertion", "signature": "s1",
                        "profile": "documented", "suite": "harness", "reason": baseline.PLACEHOLDER}]
    line = baseline.refuse_placeholders(entries, p)
    assert "A-01[x]" in line and "placeholder" in line and "\n" not in line
    with pytest.raises(baseline.BaselineError, match="exists"):
        baseline_write.write(p, "mine", [], "documented")


def test_update_baseline_never_clobbers(tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text(textwrap.dedent("""\
        # my header
        implementation: mine
        expected:
          - {case_id: "A-01[kept]", verdict: FAIL, mode: assertion, reason: "why kept"}
          - {case_id: "A-01[fixed]", verdict: FAIL, profile: documented, reason: "why fixed"}
          - {case_id: "A-01[both]", verdict: FAIL, reason: "fails in both"}
          - {case_id: "A-01[changed]", verdict: FAIL, mode: assertion, signature: old, reason: "old why"}
          - {case_id: "A-01[notrun]", verdict: ERROR, reason: "not in this run"}
        """))
    run = [case("A-01[kept]", "FAIL", "assertion", "k"), case("A-01[fixed]"), case("A-01[both]"),
           case("A-01[changed]", "FAIL", "assertion", "new"), case("A-01[new]", "ERROR", "crash", "error:crash")]
    changes = baseline_write.update(str(p), "mine", run, "documented")
    text = p.read_text()
    assert text.startswith("# my header\n")
    got = {(e["case_id"], e.get("profile")): e for e in baseline.load(str(p))}
    assert got[("A-01[kept]", None)]["reason"] == "why kept"
    assert got[("A-01[kept]", None)]["signature"] == "k"               # recorded, reason kept
    assert ("A-01[fixed]", "documented") not in got                     # removed
    assert got[("A-01[both]", "portable")]["reason"] == "fails in both"  # narrowed, not dropped
    ch = got[("A-01[changed]", "documented")]
    assert ch["signature"] == "new" and ch["reason"].startswith(baseline.PLACEHOLDER) and "old why" in ch["reason"]
    assert got[("A-01[new]", "documented")]["reason"] == baseline.PLACEHOLDER
    assert got[("A-01[notrun]", None)]["reason"] == "not in this run"   # not touched
    assert any(c.startswith("- A-01[fixed]") for c in changes)
    assert any(c.startswith("+ A-01[new]") for c in changes)
    assert sorted(baseline.placeholders(baseline.load(str(p)))) == ["A-01[changed]", "A-01[new]"]
    # the same deviation seen in the other profile: one entry for both, its reason kept
    p2 = tmp_path / "b2.yaml"
    baseline_write.write(str(p2), "mine", [case("A-01[x]", "FAIL", "assertion", "s")], "documented")
    p2.write_text(p2.read_text().replace(baseline.PLACEHOLDER, "why x"))
    changes = baseline_write.update(str(p2), "mine", [case("A-01[x]", "FAIL", "assertion", "s")], "portable")
    assert baseline.load(str(p2)) == [{"case_id": "A-01[x]", "verdict": "FAIL", "mode": "assertion",
                                       "signature": "s", "suite": "harness", "reason": "why x"}]
    assert changes and "both profiles" in changes[0]


# ---------------------------------------------------------------- 3. intermittent
def test_verdict_list_matches_either_and_is_reported_apart(tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text('expected:\n  - {case_id: "A-01[r]", verdict: [FAIL, PASS], mode: assertion, reason: racy}\n')
    entries = baseline.load(str(p))
    for got in (case("A-01[r]", "FAIL", "assertion"), case("A-01[r]")):
        g = baseline.gate([got], entries, "documented")
        assert g["status"] == "match" and g["differences"] == []
        assert [i["case_id"] for i in g["intermittent"]] == ["A-01[r]"]
    g = baseline.gate([case("A-01[r]", "ERROR", "crash")], entries, "documented")
    assert g["status"] == "regression" and "[FAIL, PASS]" in g["differences"][0]["expected"]


@pytest.mark.parametrize("v", ["[PASS]", "[]", "[FAIL, FAIL]", "[FAIL, MAYBE]", "PASS"])
def test_bad_verdict_lists_are_refused(tmp_path, v):
    p = tmp_path / "b.yaml"
    p.write_text('expected:\n  - {case_id: "A-01[r]", verdict: %s, reason: r}\n' % v)
    with pytest.raises(baseline.BaselineError, match="verdict"):
        baseline.load(str(p))


def test_repeat_finds_unstable_cases_with_their_entry():
    recs = [case("A-01[s]", "FAIL", "assertion", "x"), case("A-01[r]"), case("A-01[s]", "FAIL", "assertion", "x"),
            case("A-01[r]", "FAIL", "assertion", "y"), case("A-01[r]")]
    out, unstable = repeat.collapse(recs)
    assert [c["case_id"] for c in out] == ["A-01[s]", "A-01[r]"]
    assert [c["case_id"] for c in unstable] == ["A-01[r]"]
    r = unstable[0]
    assert r["verdict"] == "FAIL" and r["repeat"] == {"n": 3, "verdicts": {"PASS": 2, "FAIL": 1},
                                                      "modes": ["assertion"], "signatures": ["y"]}
    text = repeat.entry_text(r, "documented")
    assert "verdict: [FAIL, PASS]" in text and "A-01[r]" in text
    # the entry it proposes is one the gate accepts (once the reason is written)
    e = dict(__import__("yaml").safe_load(text)[0], reason="racy")
    assert baseline.gate([c for c in recs if c["case_id"] == "A-01[r]"], [e], "documented")["status"] == "match"


# ---------------------------------------------------------------- 4. signatures
def _fail(fn):
    try:
        fn()
    except AssertionError as e:
        return signature.of_exception(e)
    raise RuntimeError("did not fail")


def test_signature_names_the_check_not_the_message(tmp_path, monkeypatch):
    mod = tmp_path / "checks.py"
    src = textwrap.dedent("""\
        def two_checks(a, b, msg):
            assert a == 1, "first: %s" % msg
            assert b == 2, "second: %s" % msg
        """)
    monkeypatch.setattr(signature, "HARNESS", str(tmp_path))
    mod.write_text(src)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib
    checks = importlib.import_module("checks")
    s1 = _fail(lambda: checks.two_checks(0, 2, "one text"))
    s1b = _fail(lambda: checks.two_checks(0, 2, "another text, 42 bytes"))
    s2 = _fail(lambda: checks.two_checks(1, 0, "one text"))
    assert s1 == s1b and s1 != s2
    assert "a == 1" in s1 and "b == 2" in s2
    # moving the code (new lines above) keeps the key
    mod.write_text("\n\n# moved\n" + src)
    signature._ast_cache.clear()
    del sys.modules["checks"]
    checks = importlib.import_module("checks")
    assert _fail(lambda: checks.two_checks(0, 2, "x")) == s1


def test_signature_of_a_judged_check_and_a_given_key():
    j = Judge("documented")

    def fn(p):
        assert p == "portable", "documented fails"
    j.check(fn)
    assert j.verdict == "NON-STRICT"
    s = signature.of_exception(j.nonstrict_errors[0])
    assert "p == 'portable'" in s
    with pytest.raises(AssertionError) as ei:
        Judge("portable").check(lambda p: _false(), key="my-check")
    assert signature.of_exception(ei.value) == "my-check"
    assert signature.of_error("crash", "SIGSEGV") == "error:crash:SIGSEGV"


def _false():
    assert False, "always"


def test_gate_reports_a_changed_signature_and_keeps_old_baselines():
    with_sig = [{"case_id": "A-01[x]", "verdict": "FAIL", "mode": "assertion", "signature": "old", "reason": "r"}]
    without = [{"case_id": "A-01[x]", "verdict": "FAIL", "mode": "assertion", "reason": "r"}]
    got = [case("A-01[x]", "FAIL", "assertion", "new")]
    g = baseline.gate(got, with_sig, "documented")
    assert g["status"] == "regression" and "changed failure" in g["differences"][0]["reason"]
    assert baseline.gate(got, without, "documented")["status"] == "match"
    assert baseline.gate([case("A-01[x]", "FAIL", "assertion", "old")], with_sig, "documented")["status"] == "match"


# ---------------------------------------------------------------- 5. partial runs
def test_partial_names_say_what_was_selected():
    assert selection.partial() is None
    assert selection.partial(keyword="CONN-07")["tag"] == "k-CONN-07"
    p = selection.partial(keyword="CONN or ERR", shard="2/3")
    assert p["tag"].startswith("shard-2of3+k-CONN_or_ERR-") and p["selection"] == "--shard 2/3 -k CONN or ERR"
    assert selection.partial(cases=["CONN-07[no_bind-v4]"])["tag"].startswith("case-CONN-07_no_bind-v4")
    assert selection.partial(cases=["X"], last_failed=True)["tag"] == "last-failed"
    assert selection.partial(exitfirst=True)["tag"] == "x"
    assert "\n" not in _partial({"partial": {"selection": "-k <b>"}}) and "&lt;b&gt;" in _partial(
        {"partial": {"selection": "-k <b>"}})
    assert _partial({}) == ""


def test_last_failed_reads_the_newest_results(tmp_path):
    runs, part = tmp_path / "runs", tmp_path / "partial"
    runs.mkdir()
    part.mkdir()
    full = runs / "x-harness-documented.json"
    full.write_text(json.dumps({"cases": [], "gate": {"differences": [{"case_id": "A-01[a]"}]}}))
    assert selection.last_results(str(tmp_path), "x", "documented") == str(full)
    newer = part / "x-harness-documented.k-A.json"
    newer.write_text(json.dumps({"cases": [case("A-01[b]", "FAIL"), case("A-01[c]")]}))
    os.utime(full, (1, 1))
    assert selection.last_results(str(tmp_path), "x", "documented") == str(newer)
    assert selection.failed_cases(str(newer)) == ["A-01[b]"]
    assert selection.failed_cases(str(full)) == ["A-01[a]"]
    assert selection.last_results(str(tmp_path), "y", "documented") is None


# ---------------------------------------------------------------- 6. shards
def test_shards_are_deterministic_complete_and_balanced_by_family():
    ids = ["%s-%02d[c%d]" % (f, n, i) for f, k in (("CONN", 13), ("ARG", 40), ("EX", 2), ("ERR", 7))
           for n in range(1, 3) for i in range(k)]
    for n in (1, 2, 3, 5):
        a = selection.shard_of(ids, n)
        assert a == selection.shard_of(list(reversed(ids)), n)      # order-independent
        sizes = [sum(1 for v in a.values() if v == k) for k in range(1, n + 1)]
        assert sum(sizes) == len(ids) and max(sizes) - min(sizes) <= 1
        for fam in ("CONN", "ARG", "EX", "ERR"):
            per = [sum(1 for c, v in a.items() if v == k and c.startswith(fam + "-")) for k in range(1, n + 1)]
            assert max(per) - min(per) <= 1, (fam, per)
    with pytest.raises(selection.SelectionError):
        selection.parse_shard("4/3")
    with pytest.raises(selection.SelectionError):
        selection.parse_shard("1-3")


def _run(cases, part=None):
    r = {"suite": "harness", "implementation": {"id": "x"}, "profile": "documented", "started": None,
         "duration_s": 1.0, "cases": cases, "gate": {"baseline": None, "status": "match", "differences": []}}
    if part:
        r["partial"] = part
    return r


def test_merge_whole_partial_and_refused():
    s1 = _run([case("A-01[a]"), case("B-01[a]", "FAIL", "assertion")], {"selection": "--shard 1/2", "shard": "1/2"})
    s2 = _run([case("A-01[b]")], {"selection": "--shard 2/2", "shard": "2/2"})
    m = merge.merge([s1, s2], ["s1", "s2"])
    assert "partial" not in m and [c["case_id"] for c in m["cases"]] == ["A-01[a]", "A-01[b]", "B-01[a]"]
    assert merge.gate(m, None) == (None, 1) and m["gate"]["status"] == "regression"
    assert "partial" in merge.merge([s1], ["s1"])
    k = _run([case("C-01[a]")], {"selection": "--shard 2/2 -k C", "shard": "2/2"})
    assert merge.merge([s1, k], ["s1", "k"])["partial"]["selection"].endswith("-k C")
    with pytest.raises(ReportError, match="both"):
        merge.merge([s1, s1], ["s1", "again"])
    other = dict(_run([case("Z-01[a]")]), profile="portable")
    with pytest.raises(ReportError, match="one run"):
        merge.merge([s1, other], ["s1", "other"])


@pytest.mark.parametrize("value", ["plain", "a: b", "it's \"quoted\"", "null", "yes", "x #1", "é ü", "[x]", "", "-x"])
def test_baseline_lines_round_trip(value):
    import yaml
    e = {"case_id": "A-01[%s]" % value, "verdict": ["FAIL", "PASS"], "mode": None, "reason": value}
    line = baseline_write.flow(e)
    assert "\n" not in line and yaml.safe_load(line) == e
