"""lint_catalogue against small made-up projects."""
import io
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import lint_catalogue  # noqa: E402

CAT = """seeds: {s.txt: seed}
clauses:
  - {id: ARG-01, family: ARG, sentence: 'buffer is null.', level: MUST, seed: [s.txt], expectation: {documented: d}}
  - {id: CONN-07, family: CONN, sentence: '(derived)', level: MUST, seed: [], expectation: {documented: d}}
"""


def _project(tmp_path, c_code="", py_code="", table=None, cat=CAT):
    for d in ("fixtures/cases", "conformance", "harness/cases", "seeds"):
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
    (tmp_path / "fixtures" / "clauses.yaml").write_text(cat)
    (tmp_path / "seeds" / "s.txt").write_text("ArgumentNullException buffer is null.")
    (tmp_path / "conformance" / "test-x.c").write_text(c_code)
    (tmp_path / "harness" / "cases" / "test_x.py").write_text(py_code)
    if table is not None:
        (tmp_path / "fixtures" / "cases" / "t.yaml").write_text(table)
    out = io.StringIO()
    rc = lint_catalogue.lint(str(tmp_path), str(tmp_path / "seeds"), out)
    return rc, out.getvalue()


def test_clean_when_both_suites_together_cover_everything(tmp_path):
    rc, text = _project(tmp_path, c_code="START_TEST(test_ARG_01_udp_v4_send) {}",
                        py_code='@pytest.mark.clause("CONN-07")\ndef test_x(h): pass\n')
    assert rc == 0, text


def test_clause_without_a_case(tmp_path):
    rc, text = _project(tmp_path, c_code="/* test_CONN_07 only in a comment */ void test_ARG_01_x(void);")
    assert rc == 1 and "CONN-07 has no case in either suite" in text


def test_case_citing_an_unknown_clause(tmp_path):
    rc, text = _project(tmp_path, c_code="void test_ARG_01_x(void); void test_CONN_99_y(void);",
                        py_code='def test_CONN_07_ok(h): pass\n@pytest.mark.clause("ERR-42")\ndef test_z(h): pass\n')
    assert rc == 1
    assert "CONN-99 is cited by conformance/test-x.c" in text
    assert "ERR-42 is cited by harness/cases/test_x.py" in text


def test_test_list_header_and_case_tables(tmp_path):
    (tmp_path / "conformance").mkdir(parents=True)
    (tmp_path / "conformance" / "test-list.h").write_text(
        "/* ARG_02 in a comment does not count */\n#define L(XX) \\\n  XX(ARG, ARG_01, udp, body) \\\n")
    rc, text = _project(tmp_path, table="rows:\n  - {clause: CONN-07, name: a}\n")
    assert rc == 0, text


def test_malformed_table_row(tmp_path):
    rc, text = _project(tmp_path, table="rows:\n  - {clause: conn7, name: a}\n")
    assert rc == 2 and "row 1: clause 'conn7'" in text


def test_malformed_catalogue(tmp_path):
    rc, text = _project(tmp_path, cat="seeds: {s.txt: x}\nclauses:\n  - {id: ARG-01}\n")
    assert rc == 2 and "record 1 (ARG-01): missing field 'family'" in text


def test_real_project_is_clean():
    root = os.path.dirname(os.path.dirname(HERE))
    seeds = os.environ.get("APMSOCK_SEEDS") or None  # CI: the seeds beside the clone (.ci/run)
    out = io.StringIO()
    assert lint_catalogue.lint(root, seeds, out) == 0, out.getvalue()


def test_the_seed_check_runs_only_when_a_seed_folder_is_given(tmp_path, monkeypatch, capsys):
    root = os.path.dirname(os.path.dirname(HERE))
    monkeypatch.delenv("APMSOCK_SEEDS", raising=False)
    assert lint_catalogue.main(["--root", root]) == 0
    assert "seed check skipped: no seed folder given" in capsys.readouterr().out
    assert lint_catalogue.main(["--root", root, "--seeds", str(tmp_path / "nowhere")]) == 2
    assert "seed folder" in capsys.readouterr().err
    # given, it checks: a sentence missing from its seed fails the lint
    rc, text = _project(tmp_path, c_code="void test_ARG_01_x(void); void test_CONN_07_y(void);",
                        cat=CAT.replace("buffer is null.", "buffer is not null."))
    assert rc == 2 and "not verbatim" in text


def test_the_error_table_data_agrees_with_the_header():
    """fixtures/socket-errors.yaml is the reference's X-macro tables as data (PROTOCOL.md)."""
    from apmsock_harness import errtable
    root = os.path.dirname(os.path.dirname(HERE))
    assert errtable.check(root) == []
    data = errtable.load(errtable.default_path(root))
    by = {e["name"]: e for e in data["socket_errors"]}
    assert (by["MessageSize"]["code"], by["MessageSize"]["errno"]) == (10040, "EMSGSIZE")
    assert by["OperationAborted"]["code"] == 995
    # and a drift is caught
    header = open(errtable.header_path(root), encoding="utf-8").read()
    drifted = errtable.from_header(header.replace('"MessageSize", 10040', '"MessageSize", 10041'))
    assert errtable.compare(data, drifted) == [
        "socket_errors: MessageSize.code is 10040 in the data, 10041 in the header"]


def test_case_citing_no_clause(tmp_path):
    rc, text = _project(tmp_path, c_code="void test_ARG_01_x(void);",
                        py_code='def test_CONN_07_ok(h): pass\n\n@pytest.mark.parametrize("x", [1])\ndef test_orphan(h, x): pass\n'
                                'def pytest_generate_tests(metafunc):\n    if metafunc.function.__name__ == "test_rows": pass\n'
                                'def test_rows(h, row): pass\n')
    assert rc == 1
    assert "harness/cases/test_x.py::test_orphan cites no clause" in text
    assert "test_rows" not in text


def test_the_project_stands_alone():
    """No file but .ci/run names the seeds' folder outside the checkout, no file names the
    input design document, and docs/DESIGN.md is the design README points to."""
    import subprocess
    root = os.path.dirname(os.path.dirname(HERE))
    files = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.split()
    if not files:
        import pytest
        pytest.skip("not a git checkout")
    bad = []
    for rel in files:
        if rel in (".ci/run", "harness/selftest/test_lint.py"):
            continue
        try:
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                text = f.read()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        for needle in ("shared/seeds", "shared/SPEC", "SPEC.md", "/work/"):
            if needle in text:
                bad.append("%s: %s" % (rel, needle))
    assert not bad, bad
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        assert "docs/DESIGN.md" in f.read()


def test_a_peer_entry_naming_a_missing_case_fails_the_lint(tmp_path):
    """fixtures/peers.yaml may only name harness cases that exist (issue 12)."""
    import peers
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert peers.check(root) == [], "the shipped peer map has problems"
    bad = tmp_path / "peers.yaml"
    bad.write_text("suites: {dotnet: {repository: dotnet/runtime}}\n"
                   "peers:\n"
                   "  - {suite: dotnet, file: F.cs, test: T1, cases: [test_NO_SUCH_case]}\n"
                   "  - {suite: dotnet, file: F.cs, test: T2, excluded: \"because\"}\n"
                   "  - {suite: wine, file: sock.c, test: test_send}\n"
                   "  - {suite: dotnet, file: F.cs, test: T3, excluded: \"not covered yet: a gap\"}\n")
    problems = peers.check(root, str(bad))
    assert any("test_NO_SUCH_case does not exist" in p for p in problems), problems
    assert any("out of scope: why" in p for p in problems), problems
    assert any("suite 'wine' is not listed" in p for p in problems), problems
    assert any("either cases or excluded" in p for p in problems), problems
    assert not any("(T3)" in p for p in problems), "an honest gap (not covered yet: ...) was refused"
