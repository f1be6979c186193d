"""Fake adapters that crash, hang, exit or print garbage: each must end as an
ERROR verdict with its mode and evidence, and the run must go on (the
adapter restarted) and end, never hang."""
import json
import os
import select
import subprocess
import sys
import time

import pytest

from apmsock_harness.adapter import Adapter, AdapterFailure, ProtocolMismatch

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.dirname(HERE)
FAKE = os.path.join(HERE, "fakes", "fake_adapter.py")
CONFORM = os.path.join(HARNESS, "conform")


def _adapter(mode, monkeypatch, timeout=1.0):
    monkeypatch.setenv("FAKE_ADAPTER_MODE", mode)
    a = Adapter([FAKE], timeout=timeout)
    a.start(timeout=10.0)
    return a


@pytest.mark.parametrize("mode,want,sig", [
    ("crash:socket", "crash", "SIGSEGV"),
    ("exit:socket", "crash", None),
    ("garbage:socket", "garbage", None),
    ("badid:socket", "garbage", None),
    ("hang:socket", "timeout", None),
])
def test_driver_reports_each_breakage(monkeypatch, mode, want, sig):
    a = _adapter(mode, monkeypatch)
    t0 = time.monotonic()
    with pytest.raises(AdapterFailure) as ei:
        a.call("socket", {"family": "inet", "type": "dgram"})
    assert time.monotonic() - t0 < 5.0, "the driver waited past its bound"
    assert ei.value.mode == want
    assert ei.value.signal_name == sig
    if want == "crash" and sig is None:
        assert "exit status 3" in str(ei.value)
    assert not a.alive
    assert any(e["dir"] == ">" and '"socket"' in e["line"] for e in a.exchange), "the exchange was not logged"
    # a broken adapter refuses further requests at once instead of hanging
    with pytest.raises(AdapterFailure):
        a.call("socket", {"family": "inet", "type": "dgram"})
    a.stop(1.0)


def _gone(pid, timeout=5.0):
    """True when pid ends within timeout (a zombie waiting for its reaper
    counts as ended).  Waits on a pidfd, which turns readable at the exit:
    a killed process closes its files before it becomes a zombie, so the
    readers' end of file can come first, and /proc read once then showed
    it still running on a loaded machine."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def test_a_timed_out_adapters_children_end_with_it(monkeypatch):
    """The adapter leads its own process group; a timeout kills the group, not the adapter alone."""
    import re
    a = _adapter("orphan:socket", monkeypatch)
    with pytest.raises(AdapterFailure) as ei:
        a.call("socket", {"family": "inet", "type": "dgram"})
    assert ei.value.mode == "timeout"
    text = a.wait_stderr(lambda t: re.search(r"child pid (\d+)", t), timeout=5.0)
    assert text, "the fake did not report its child: %r" % a.stderr_text()
    child = int(text.group(1))
    # The child holds the adapter's stdout and stderr: the readers end only once it is gone.
    for t in a._threads:
        t.join(10.0)
        assert not t.is_alive(), "%s still reading: the child outlived the adapter" % t.name
    assert _gone(child), "child %d still running" % child
    a.stop(1.0)


def test_driver_protocol_mismatch(monkeypatch):
    monkeypatch.setenv("FAKE_ADAPTER_MODE", "major")
    a = Adapter([FAKE], timeout=2.0)
    with pytest.raises(ProtocolMismatch, match="2.0"):
        a.start(timeout=5.0)


def test_driver_missing_program():
    a = Adapter(["/nonexistent/adapter"], timeout=1.0)
    with pytest.raises(AdapterFailure) as ei:
        a.start()
    assert ei.value.mode == "crash"


def _conform(tmp_path, mode, *extra):
    env = dict(os.environ, FAKE_ADAPTER_MODE=mode)
    results = tmp_path / "run.json"
    cmd = [sys.executable, CONFORM, "--impl", "reference", "--adapter", FAKE, "-n", "0", "-q",
           "--results", str(results), "--junitxml", str(tmp_path / "j.xml"),
           "-k", "(CONN_01 or CONN_02) and not refused"] + list(extra)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    run = json.loads(results.read_text()) if results.exists() else None
    return p, run


def _follows_the_agreed_schema(run):
    """The results file of a run (wrapped as results.json would hold it)
    validates against the agreed schema: checked on the runs the tests
    below make anyway (a passing fake, a crashing one, one without the
    capabilities), rather than on runs of their own."""
    jsonschema = pytest.importorskip("jsonschema")
    with open(os.path.join(HARNESS, "report", "results.schema.json")) as f:
        schema = json.load(f)
    doc = {"schema_version": "1", "suite_version": run["suite_version"], "contract_version": "1.0",
           "generated": run["started"], "runs": [run]}
    jsonschema.validate(doc, schema)


@pytest.mark.parametrize("mode,want", [
    ("crash:begin_send", ("ERROR", "crash", "SIGSEGV")),
    ("garbage:begin_send", ("ERROR", "garbage", None)),
    ("hang:begin_send", ("ERROR", "timeout", None)),
    ("exit:begin_send", ("ERROR", "crash", None)),
])
def test_runner_goes_on_after_a_broken_adapter(tmp_path, mode, want):
    t0 = time.monotonic()
    p, run = _conform(tmp_path, mode, "--request-timeout", "1")
    assert time.monotonic() - t0 < 60
    assert p.returncode == 1, p.stdout + p.stderr
    assert run is not None and len(run["cases"]) == 4, p.stdout
    for c in run["cases"]:
        assert (c["verdict"], c["mode"], c["signal"]) == want, c
        assert c["evidence"]["exchange"], "no exchange kept as evidence"
    assert run["gate"]["status"] == "regression"
    junit = (tmp_path / "j.xml").read_text()
    assert junit.count("<error") == 4 and "<failure" not in junit, junit[:2000]
    # written from the results (issue 10): name = case ID, classname per impl/suite/profile/family
    import xml.etree.ElementTree as ET
    tcs = list(ET.fromstring(junit.encode()).iter("testcase"))
    assert {tc.get("name") for tc in tcs} == {c["case_id"] for c in run["cases"]}
    assert {tc.get("classname") for tc in tcs} == {"apmsock.reference.harness.documented.CONN"}
    assert all("reproduce: harness/conform --impl reference" in tc.find("error").text for tc in tcs)
    _follows_the_agreed_schema(run)


def test_runner_matches_with_a_correct_fake(tmp_path):
    p, run = _conform(tmp_path, "notconn")
    assert p.returncode == 0, p.stdout + p.stderr
    assert {c["verdict"] for c in run["cases"]} == {"PASS"}
    _follows_the_agreed_schema(run)


def test_runner_unsupported(tmp_path):
    p, run = _conform(tmp_path, "nocaps")
    assert {c["verdict"] for c in run["cases"]} == {"UNSUPPORTED"}
    assert p.returncode == 1  # not in the (empty) baseline
    _follows_the_agreed_schema(run)


def test_runner_usage_errors(tmp_path):
    p, _ = _conform(tmp_path, "major")
    assert p.returncode == 4, p.stdout + p.stderr
    p = subprocess.run([sys.executable, CONFORM, "--profile", "lax"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 4
    p = subprocess.run([sys.executable, CONFORM, "--impl", "nope"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 4 and "unknown implementation" in p.stderr


def test_runner_unexpected_pass(tmp_path):
    b = tmp_path / "b.yaml"
    b.write_text("expected:\n  - {clause: CONN-01, verdict: FAIL, reason: pretend}\n")
    p, run = _conform(tmp_path, "notconn", "--baseline", str(b))
    assert p.returncode == 2, p.stdout + p.stderr
    assert run["gate"]["status"] == "unexpected_pass"


def test_case_time_limit_is_error_timeout(tmp_path):
    """A case that outlives its pytest-timeout limit ends as ERROR(timeout)."""
    (tmp_path / "test_slow.py").write_text(
        "import pytest, threading\n"
        "@pytest.mark.clause('CONN-01')\n"
        "@pytest.mark.timeout(1)\n"
        "def test_CONN_01_slow(h):\n"
        "    threading.Event().wait(20)\n")
    results = tmp_path / "r.json"
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = dict(os.environ, FAKE_ADAPTER_MODE="notconn", PYTHONPATH=HARNESS)
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "pytest", "-p", "apmsock_harness.plugin", "-q",
                        "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-c", str(tmp_path / "pytest.ini"),
                        "--adapter", FAKE, "--results-json", str(results), str(tmp_path / "test_slow.py")],
                       env=env, capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert time.monotonic() - t0 < 15
    run = json.loads(results.read_text())
    c = run["cases"][0]
    assert (c["verdict"], c["mode"]) == ("ERROR", "timeout"), (c, p.stdout[-2000:])


def test_no_namespace_is_skip(tmp_path):
    """Where no private network namespace can be made (here: an `unshare`
    that fails as it does without privileges), FLAGS-01 is SKIP with the
    reason, not FAIL or ERROR."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "unshare").write_text("#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n")
    (fake_bin / "unshare").chmod(0o755)
    env = dict(os.environ, FAKE_ADAPTER_MODE="notconn", PATH="%s:%s" % (fake_bin, os.environ["PATH"]))
    results = tmp_path / "run.json"
    p = subprocess.run([sys.executable, CONFORM, "--impl", "reference", "--adapter", FAKE, "-n", "0", "-q",
                        "--results", str(results), "--junitxml", str(tmp_path / "j.xml"), "-k", "FLAGS_01 and not net_"],
                       env=env, capture_output=True, text=True, timeout=120)
    run = json.loads(results.read_text())
    assert run["cases"], p.stdout + p.stderr
    for c in run["cases"]:
        assert c["verdict"] == "SKIP", c
        assert "network namespace" in c["message"] and "Operation not permitted" in c["message"], c
