"""harness/conform --check-adapter (apmsock_harness/checker.py): the protocol's bare rules,
one verdict line each, exit 0 when all hold and 1 when one breaks. proto_fake.py breaks
one rule at a time; the reference adapter and the skeleton pass every check."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.dirname(HERE)
ROOT = os.path.dirname(HARNESS)
CONFORM = os.path.join(HARNESS, "conform")
FAKE = os.path.join(HERE, "fakes", "proto_fake.py")
CHECKS = ("hello", "framing", "unknown-op", "malformed-json", "error-shape", "quit", "one-reply-per-id")
CHECKS_11 = ("pipelining", "hold", "callback-script", "sync-send", "bench")   # SKIP on a 1.0 adapter


def check_adapter(cmd, env=None, timeout="2"):
    p = subprocess.run([sys.executable, CONFORM, "--check-adapter", "--adapter-cmd", cmd,
                        "--request-timeout", timeout], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, **(env or {})))
    verdicts = {}
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] in CHECKS + CHECKS_11:
            verdicts[parts[1]] = parts[2]
    return p, verdicts


def test_a_correct_adapter_passes_every_check():
    p, v = check_adapter("%s %s" % (sys.executable, FAKE), {"PROTO_FAKE_BREAK": "none"})
    assert p.returncode == 0, p.stdout + p.stderr
    assert v == dict({c: "PASS" for c in CHECKS}, **{c: "SKIP" for c in CHECKS_11}), p.stdout
    assert p.stdout.splitlines()[-1] == "check-adapter: ok: 7 of 12 checks passed"


@pytest.mark.parametrize("broken,check", [
    ("hello", "hello"), ("framing", "framing"), ("unknown-op", "unknown-op"),
    ("malformed", "malformed-json"), ("bigint", "malformed-json"), ("error-shape", "error-shape"),
    ("double-reply", "one-reply-per-id"), ("quit", "quit"),
])
def test_each_broken_rule_fails_its_check(broken, check):
    p, v = check_adapter("%s %s" % (sys.executable, FAKE), {"PROTO_FAKE_BREAK": broken})
    assert p.returncode == 1, p.stdout + p.stderr
    assert v[check] == "FAIL", p.stdout
    if broken not in ("malformed", "bigint", "hello"):  # those also leave requests unanswered
        assert [c for c, x in v.items() if x == "FAIL"] == [check], p.stdout


@pytest.mark.parametrize("broken,verdict", [("bench-good", "PASS"), ("bench-silent", "FAIL"),
                                             ("bench-shape", "FAIL")])
def test_the_bench_check_reads_the_reply_and_counts_the_datagrams(broken, verdict):
    p, v = check_adapter("%s %s" % (sys.executable, FAKE), {"PROTO_FAKE_BREAK": broken})
    assert v["bench"] == verdict, p.stdout
    assert p.returncode == (0 if verdict == "PASS" else 1), p.stdout + p.stderr
    if broken == "bench-silent":
        assert "the receiver counted" in p.stdout
    if broken == "bench-shape":
        assert "p50 9.0 and p99 5.0" in p.stdout


def test_usage_errors_exit_4():
    p, _ = check_adapter("/nonexistent/adapter --flag")
    assert p.returncode == 4 and "cannot start /nonexistent/adapter --flag" in p.stdout
    p, _ = check_adapter("'unbalanced")
    assert p.returncode == 4 and "usage error" in p.stderr


def test_the_reference_adapter_passes_every_check():
    adapter = os.path.join(ROOT, "build", "release", "bin", "apmsock-adapter")
    if not os.path.exists(adapter):
        pytest.skip("the reference adapter is not built (make adapter); make check-adapter runs this too")
    p, v = check_adapter(adapter)
    assert p.returncode == 0, p.stdout + p.stderr
    # it speaks 1.1: the fuzzing of nested scripts, self-closing scripts and a latch
    # never released included
    assert v == {c: "PASS" for c in CHECKS + CHECKS_11}, p.stdout


SKELETON = os.path.join(HARNESS, "adapters", "skeleton", "adapter.py")


def test_the_skeleton_passes_every_protocol_check():
    p, v = check_adapter("%s %s" % (sys.executable, SKELETON))
    assert p.returncode == 0, p.stdout + p.stderr
    assert v == dict({c: "PASS" for c in CHECKS}, **{c: "SKIP" for c in CHECKS_11}), p.stdout
    assert "my-implementation 0.0, protocol 1.0" in p.stdout


def test_the_skeleton_runs_the_cases_as_unsupported(tmp_path):
    """Unfilled, every case it meets is UNSUPPORTED (never FAIL or ERROR): the loop is sound."""
    import json
    results = tmp_path / "run.json"
    p = subprocess.run([sys.executable, CONFORM, "--impl", "reference", "--adapter", SKELETON, "-n", "0", "-q",
                        "--reports", str(tmp_path / "reports"), "--results", str(results), "--no-junit",
                        "-k", "CONN_01 or END_01 or ASYNC_10"], capture_output=True, text=True, timeout=120)
    cases = json.loads(results.read_text())["cases"]
    assert cases and {c["verdict"] for c in cases} == {"UNSUPPORTED"}, p.stdout[-2000:]
    # a 1.0 adapter meets a case needing 1.1 as UNSUPPORTED, for the capability it lacks
    v11 = [c for c in cases if c["clause"] == "ASYNC-10"]
    assert v11 and all("sync_send" in c["message"] for c in v11), v11
    assert p.returncode == 1  # the reference's (empty) baseline: each UNSUPPORTED is a deviation
    # --no-junit (self-test runs: check_faulty, the sanitizer runs): reports/junit/ holds current runs only
    assert not (tmp_path / "reports" / "junit").exists()
