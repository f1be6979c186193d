"""The mutation tool's own tests: operators, site keys, resumable state,
equivalents and scores.  No build, no suite: they run in a second."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from apmsock_mutation import operators, report, results  # noqa: E402

SAMPLE = """#include <stdio.h>
#define LIMIT(a, b) ((a) < (b) ? (a) : (b))
/* a < b in a comment */
static const int table[4] = {1, 2, 3, 4};
struct s { int x[8]; };

int f(int n, const char *s) {
  if (n < 0 && s != NULL) return APMSOCK_ARGUMENT;  // plain
  if (n == 7) return 1;  // GCOVR_EXCL_BR_LINE: a race
  while (n > 2) {
    n--;
    cleanup(s);
    if (n >= 5) {
      return APMSOCK_SE_SUCCESS;
    }
  }
  puts("x < y");
  return APMSOCK_OK;
}
"""


def ops(ms, op):
    return [(m.line, m.before, m.after) for m in ms if m.operator == op]


@pytest.fixture
def ms():
    return operators.mutants("reference/src/sample.c", SAMPLE)


def test_only_function_bodies_outside_comments_strings_directives(ms):
    lines = {m.line for m in ms}
    assert lines and min(lines) >= 7            # not the #define, comment, table or struct
    assert ops(ms, "ROR") and not [m for m in ms if m.line == 17 and m.operator == "ROR"]  # "x < y" is a string


def test_excluded_line_is_skipped(ms):
    assert not [m for m in ms if m.line == 9]


def test_relational_logical_and_negation(ms):
    assert (8, "<", "<=") in ops(ms, "ROR") and (8, "!=", "==") in ops(ms, "ROR")
    assert (10, ">", ">=") in ops(ms, "ROR") and (13, ">=", ">") in ops(ms, "ROR")
    assert ops(ms, "LCR") == [(8, "&&", "||")]
    assert (10, "n > 2", "!(n > 2)") in ops(ms, "NEG")


def test_error_constants_calls_constants_returns(ms):
    assert (8, "APMSOCK_ARGUMENT", "APMSOCK_INVALID_OPERATION") in ops(ms, "ERR")
    assert (14, "APMSOCK_SE_SUCCESS", "APMSOCK_SE_SOCKET_ERROR") in ops(ms, "ERR")
    assert (18, "APMSOCK_OK", "APMSOCK_SOCKET") in ops(ms, "ERR")
    assert (12, "cleanup(s);", ";") in ops(ms, "CALL")
    assert (10, "2", "3") in ops(ms, "CONST") and (10, "2", "1") in ops(ms, "CONST")
    rets = ops(ms, "RET")
    assert (8, "return APMSOCK_ARGUMENT;", ";") in rets and (14, "return APMSOCK_SE_SUCCESS;", ";") in rets
    assert not [r for r in rets if r[0] == 18]  # the function's last return stays


def test_apply_changes_only_the_site(ms):
    m = [m for m in ms if m.operator == "LCR"][0]
    out = m.apply(SAMPLE)
    assert out.count("||") == 1 and out.replace("||", "&&") == SAMPLE


def test_key_is_stable_when_lines_shift(ms):
    shifted = operators.mutants("reference/src/sample.c", "\n\n" + SAMPLE)
    assert [m.key for m in ms] == [m.key for m in shifted]
    assert len({m.key for m in ms}) == len(ms)


def test_identical_lines_get_distinct_keys():
    src = "void f(int a) {\n  unlock(a);\n  lock(a);\n  unlock(a);\n}\n"
    calls = [m for m in operators.mutants("x.c", src) if m.operator == "CALL" and m.before == "unlock(a);"]
    assert len(calls) == 2 and calls[0].key != calls[1].key


def test_state_resumes_and_survives_a_cut_line(tmp_path):
    path = str(tmp_path / "state.jsonl")
    results.append_state(path, {"key": "a", "status": "KILLED"})
    with open(path, "a") as f:
        f.write('{"key": "b", "sta')  # interrupted mid-write
    assert list(results.load_state(path)) == ["a"]


def test_state_of_other_suites_is_not_reused(tmp_path):
    path = str(tmp_path / "state.jsonl")
    results.append_state(path, {"key": "a", "status": "SURVIVED", "fingerprint": "old"})
    results.append_state(path, {"key": "b", "status": "KILLED", "fingerprint": "new"})
    assert list(results.load_state(path, "new")) == ["b"]


def rec(key, status, killed_by=(), context="if (n < 0) return;", after="<="):
    return {"key": key, "file": "reference/src/x.c", "line": 3, "col": 1, "operator": "ROR",
            "before": "<", "after": after, "function": "f", "context": context, "status": status,
            "killed_by": list(killed_by),
            "suites": {"c": {"failed": ["CONN-07"] if "c" in killed_by else []}, "harness": {"failed": []}}}


def test_scores_leave_out_stillborn_and_equivalent():
    eq = [{"file": "reference/src/x.c", "context": "if (n < 0) return;", "operator": "ROR",
           "after": "<=", "reason": "n is never 0"}]
    records = [rec("1", "KILLED", ["c"]), rec("2", "KILLED", ["c", "harness"]),
               rec("3", "SURVIVED"), rec("4", "SURVIVED", after=">"), rec("5", "STILLBORN")]
    s = results.score(records, eq)
    assert (s["killable"], s["stillborn"], s["equivalent"]) == (3, 1, 1)
    assert s["c"]["score"] == 66.7 and s["harness"]["score"] == 33.3 and s["combined"]["score"] == 66.7


def test_equivalents_need_a_reason(tmp_path):
    p = tmp_path / "eq.yaml"
    p.write_text("equivalents:\n  - file: a.c\n    context: x\n    operator: ROR\n    after: '<'\n")
    with pytest.raises(ValueError, match="lacks reason"):
        results.load_equivalents(str(p))


def test_report_names_survivors_and_where_to_look(tmp_path):
    records = [rec("1", "KILLED", ["c"]), rec("2", "SURVIVED", after=">")]
    doc = report.build(records, [], {"candidates": 2, "mutants": 0, "seed": 1, "judged": 2,
                                     "selected": 2, "suites": ["c", "harness"]})
    report.write(str(tmp_path), doc)
    html = (tmp_path / "index.html").read_text()
    assert "reference/src/x.c" in html and "CONN-07" in html
    assert json.loads((tmp_path / "mutation.json").read_text())["scores"]["killable"] == 2
    assert "&lt;" in html  # the operator text is escaped


def test_a_suite_that_leaves_a_process_behind_still_returns(tmp_path):
    """A forked test in a process group of its own outlives the suite it
    came from (Check does this): the run still ends, and nothing is left
    working in the workspace."""
    from apmsock_mutation import workspace
    script = "setsid sleep 60 & echo started"
    rc, secs, out = workspace.run_bounded(["sh", "-c", script], str(tmp_path), timeout=20)
    assert rc == 0 and "started" in out and secs < 20
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.path.realpath(os.readlink("/proc/%s/cwd" % pid)) == os.path.realpath(str(tmp_path)):
                left.append(pid)
        except OSError:
            pass
    assert left == [], "processes left in the workspace: %s" % left


def test_the_harness_kills_by_departures_from_the_baseline():
    """A verdict the reference's baseline expects (ARG-11 UNSUPPORTED) is
    not a kill; a difference the gate reports is, under its clause."""
    from apmsock_mutation import workspace
    run = {"cases": [{"case_id": "ARG-11[x]", "clause": "ARG-11", "verdict": "UNSUPPORTED"},
                     {"case_id": "END-03[y]", "clause": "END-03", "verdict": "FAIL"},
                     {"case_id": "ARG-01[z]", "clause": "ARG-01", "verdict": "PASS"}],
           "gate": {"status": "regression", "differences": [{"case_id": "END-03[y]"}]}}
    assert workspace.departures(run) == {"END-03"}
    del run["gate"]
    assert workspace.departures(run) == {"ARG-11", "END-03"}


def test_an_equivalent_may_name_its_function():
    """The same line in two functions: the entry that names one function
    does not judge the other's mutant."""
    e = [{"file": "f.c", "function": "g", "context": "x |= e == 0;", "operator": "CONST",
          "after": "1", "reason": "r"}]
    rec = {"file": "f.c", "context": "x |= e == 0;", "operator": "CONST", "after": "1"}
    assert results.equivalent_reason(dict(rec, function="g"), e) == "r"
    assert results.equivalent_reason(dict(rec, function="h"), e) is None
