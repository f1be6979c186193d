"""Bring your own implementation, end to end (issue 10's "done when"): an
adapter that lives outside the checkout, run with --adapter-cmd; its
baseline written, refused while it holds placeholders, then gated; the same
selection run in 3 shards and merged to the same result.  Plus partial runs,
--last-failed, --repeat, usage errors under the default -n 2, and the help.

The adapter outside is a wrapper script in a temporary folder that execs the
reference adapter.  Outside the suite it has no registry features, so the
TRACE-01 cases (which need `trace_env`) are UNSUPPORTED: real deviations for
the baseline.  Selections stay small (-k) to keep `make test` short."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from apmsock_harness import baseline

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.dirname(HERE)
ROOT = os.path.dirname(HARNESS)
CONFORM = os.path.join(HARNESS, "conform")
APM_REPORT = os.path.join(HARNESS, "report", "apm-report")
FAKE = os.path.join(HERE, "fakes", "fake_adapter.py")
ADAPTER = os.path.join(ROOT, "build", os.environ.get("VARIANT") or "release", "bin", "apmsock-adapter")
SELECT = ["-k", "TRACE-01 or CONN-07"]


@pytest.fixture
def outside(tmp_path):
    if not os.path.exists(ADAPTER):
        pytest.fail("the reference adapter is not built (%s): make adapter" % ADAPTER)
    d = tmp_path / "outside"
    d.mkdir()
    w = d / "adapter.sh"
    w.write_text("#!/bin/sh\nexec %s \"$@\"\n" % ADAPTER)
    w.chmod(0o755)
    return d


def conform(*args, env=None):
    p = subprocess.run([sys.executable, CONFORM] + list(args), capture_output=True, text=True, timeout=180,
                       cwd=ROOT, env=dict(os.environ, **(env or {})))
    return p


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def results_of(p):
    """The results path conform printed."""
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("conform: results ")][-1]
    return os.path.join(ROOT, line[len("conform: results "):].rsplit(", JUnit ", 1)[0])


def repetitions(run):
    """One record per verdict each case showed under --repeat."""
    out = []
    for c in run["cases"]:
        rep = c.get("repeat") or {"verdicts": {c["verdict"]: 1}}
        for v in rep["verdicts"]:
            failed = v != "PASS"
            out.append(dict(c, verdict=v, mode=c.get("mode") if failed else None,
                            signature=c.get("signature") if failed else None))
    return out


def outcome(run):
    """What must be equal between the unsharded and the merged run."""
    counts = {}
    for c in run["cases"]:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    g = run["gate"]
    return ({c["case_id"]: (c["verdict"], c.get("mode"), c.get("signature")) for c in run["cases"]}, counts,
            g["status"], sorted((d["case_id"], d["actual"]) for d in g["differences"]),
            sorted(i["case_id"] for i in g.get("intermittent") or []))


def _impl(outside, reports):
    return ["--impl", "mine", "--adapter-cmd", str(outside / "adapter.sh"), "--reports", str(reports), "-q", "-n", "0"]


@pytest.mark.timeout(240)   # several runs; a loaded 2-core machine
def test_outside_adapter_baseline_written_gated_sharded_merged(tmp_path, outside):
    reports = tmp_path / "reports"
    b = tmp_path / "mine-baseline.yaml"
    impl = _impl(outside, reports)
    # 1. write its baseline from a run
    p = conform(*impl, *SELECT, "--write-baseline", str(b))
    assert p.returncode == 0, p.stdout + p.stderr
    text = b.read_text()
    assert text.count("TRACE-01[") == 2 and "CONN-07" not in text, text
    entries = yaml.safe_load(text)["expected"]
    assert {(e["verdict"], e["signature"]) for e in entries} == {("UNSUPPORTED", "unsupported:trace_env")}
    assert text.count("TODO:") == 2
    # 2. the gate refuses placeholders: exit 4, one line naming the entries
    p = conform(*impl, *SELECT, "--baseline", str(b))
    assert p.returncode == 4, p.stdout + p.stderr
    err = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and "TRACE-01[environment-file]" in err[0] and "placeholder" in err[0], p.stderr
    # 3. with reasons written (and one case declared racy), it gates: exit 0
    b.write_text(text.replace("TODO: say why this deviation is expected (the gate refuses this placeholder)",
                              "no APMSOCK_TRACE switch") +
                 '  - {case_id: "CONN-07[no_bind-v4]", verdict: [FAIL, PASS], reason: "pretend it is racy"}\n')
    p = conform(*impl, *SELECT, "--baseline", str(b))
    assert p.returncode == 0, p.stdout + p.stderr
    path = results_of(p)
    assert os.path.dirname(path) == str(reports / "partial")
    assert os.path.basename(path).startswith("mine-harness-documented.k-TRACE-01_or_CONN-07-")
    whole = load(path)
    assert whole["partial"]["selection"] == "-k TRACE-01 or CONN-07"
    assert whole["implementation"]["adapter_cmd"] == str(outside / "adapter.sh")
    assert not (reports / "runs" / "mine-harness-documented.json").exists(), "a partial run wrote the full file"
    assert whole["gate"]["status"] == "match" and {c["verdict"] for c in whole["cases"]} == {"PASS", "UNSUPPORTED"}
    assert [i["case_id"] for i in whole["gate"]["intermittent"]] == ["CONN-07[no_bind-v4]"]
    assert "intermittent, as expected: 1 case(s): CONN-07[no_bind-v4]" in p.stdout
    # 4. the same selection in 3 shards, merged: the same verdicts, counts and gate
    shards = []
    procs = [subprocess.Popen([sys.executable, CONFORM, *impl, *SELECT, "--baseline", str(b), "--shard", "%d/3" % k],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
             for k in (1, 2, 3)]   # side by side, as on three machines
    for k, proc in zip((1, 2, 3), procs):
        out, err = proc.communicate(timeout=150)
        p = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        assert p.returncode == 0, p.stdout + p.stderr
        shards.append(results_of(p))
        assert os.path.basename(shards[-1]).startswith("mine-harness-documented.shard-%dof3+k-" % k)
    assert len(shards) == 3
    sizes = [len(load(s)["cases"]) for s in shards]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == len(whole["cases"])
    merged = tmp_path / "merged.json"
    p = subprocess.run([sys.executable, APM_REPORT, "merge", *shards, "--out", str(merged)],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert outcome(load(merged)) == outcome(whole)


@pytest.mark.timeout(120)
def test_impl_file_outside_with_its_own_baseline(tmp_path, outside):
    (outside / "mine.yaml").write_text('id: mine2\ncommand: ["./adapter.sh"]\nbaseline: "expected.yaml"\n')
    (outside / "expected.yaml").write_text(
        'expected:\n  - {clause: TRACE-01, verdict: UNSUPPORTED, reason: "no APMSOCK_TRACE switch"}\n')
    p = conform("--impl-file", str(outside / "mine.yaml"), "--reports", str(tmp_path / "r"), "-q", "-n", "0",
                "-k", "TRACE-01 and environment", "--results", str(tmp_path / "run.json"))
    assert p.returncode == 0, p.stdout + p.stderr
    run = load(tmp_path / "run.json")
    assert run["implementation"]["id"] == "mine2" and run["implementation"]["impl_file"].endswith("mine.yaml")
    assert {c["verdict"] for c in run["cases"]} == {"UNSUPPORTED"} and run["gate"]["status"] == "match"


@pytest.mark.timeout(120)
def test_partial_runs_keep_the_full_file_and_last_failed_reruns_exactly(tmp_path):
    reports = tmp_path / "reports"
    (reports / "runs").mkdir(parents=True)
    full = reports / "runs" / "reference-harness-documented.json"
    full.write_text(json.dumps({"cases": [], "gate": {"status": "regression", "differences": [
        {"case_id": "CONN-07[no_bind-v6]", "expected": "PASS", "actual": "FAIL/assertion"}]}}))
    before = full.read_text()
    p = conform("--last-failed", "--reports", str(reports), "-q", "-n", "0")
    assert p.returncode == 0, p.stdout + p.stderr
    run = load(reports / "partial" / "reference-harness-documented.last-failed.json")
    assert [c["case_id"] for c in run["cases"]] == ["CONN-07[no_bind-v6]"]
    assert run["partial"]["selection"] == "--last-failed"
    assert full.read_text() == before


@pytest.mark.timeout(120)
@pytest.mark.parametrize("args,env,what", [
    (["--case", "CONN-07[no_such]"], {}, "no such case: CONN-07[no_such]"),
    (["--adapter", FAKE], {"FAKE_ADAPTER_MODE": "major"}, "protocol '2.0'"),
    (["--shard", "4/3"], {}, "--shard"),
    (["--impl", "x", "--adapter-cmd", "'unbalanced"], {}, "--adapter-cmd"),
])
def test_usage_errors_are_one_line_and_exit_4_under_default_workers(tmp_path, args, env, what):
    p = conform("--reports", str(tmp_path), "-q", *args, env=env)      # no -n: the default 2 workers
    assert p.returncode == 4, p.stdout + p.stderr
    err = [ln for ln in p.stderr.splitlines() if ln.strip() and not ln.startswith("usage:")]
    assert len(err) == 1 and what in err[0] and "INTERNALERROR" not in p.stdout + p.stderr, p.stderr


def test_help_lists_every_option_variable_and_exit_code():
    p = conform("--help")
    for opt in ("--impl", "--impl-file", "--adapter-cmd", "--adapter", "--profile", "-k", "-x", "-n", "--case",
                "--last-failed", "--shard", "--repeat", "--junitxml", "--results", "--baseline",
                "--write-baseline", "--update-baseline", "--reports", "--list", "--request-timeout"):
        assert opt in p.stdout, opt
    for code in ("0  the results equal", "1  regression", "2  only unexpected", "3  harness error", "4  usage"):
        assert code in p.stdout, code
    p = subprocess.run(["make", "-s", "--no-print-directory", "help"], capture_output=True, text=True, cwd=ROOT,
                       timeout=60)
    for var in ("IMPL=", "IMPL_LIB=", "COMPARE=", "REPORTS=", "IMPL_FILE=", "ADAPTER_CMD=", "BASELINE=",
                "VARIANT="):
        assert var in p.stdout, var
    assert "4 usage error" in p.stdout


@pytest.mark.timeout(120)
def test_repeat_finds_a_racy_case_and_the_entry_that_accepts_it(tmp_path):
    """A fake adapter that gets every third Begin wrong: --repeat shows which
    cases are unstable and prints the baseline entry with both verdicts; those
    entries, with their reasons written, accept every repetition."""
    p = conform("--adapter", FAKE, "-q", "-n", "0", "--reports", str(tmp_path), "-k", "CONN-01 or CONN-02",
                "--repeat", "2", env={"FAKE_ADAPTER_MODE": "flaky"})
    assert p.returncode == 1, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    unstable = [ln for ln in lines if ln.startswith("conform: unstable: ")]
    assert unstable, p.stdout
    entries = [yaml.safe_load(lines[lines.index(u) + 1].strip())[0] for u in unstable]
    assert all("PASS" in e["verdict"] and len(e["verdict"]) == 2 for e in entries), entries
    run = load(results_of(p))
    assert {c["case_id"] for c in run["cases"] if len((c.get("repeat") or {}).get("verdicts", {})) == 2} == \
        {e["case_id"] for e in entries}
    # the entries, reasons written, accept every repetition of those cases
    g = baseline.gate(repetitions(run), [dict(e, reason="racy") for e in entries], "documented")
    assert not [d for d in g["differences"] if d["case_id"] in {e["case_id"] for e in entries}], g
