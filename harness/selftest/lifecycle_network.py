"""`make check-network` (named explicitly, not collected by make test): the
virtual network leaves nothing behind after a harness run, after a run interrupted with SIGINT (Ctrl-C) or SIGTERM; and
without root its cases are SKIP with the reason."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.dirname(HERE)
ROOT = os.path.dirname(HARNESS)
sys.path.insert(0, HARNESS)
sys.path.insert(0, HERE)

from apmsock_harness import registry, topology  # noqa: E402

from test_topology import host_state, needs_net, ours, fresh_run_tag  # noqa: E402


def _adapter_ready():
    try:
        argv, prog = registry.command(ROOT, "reference")
    except registry.RegistryError:
        return False
    return os.path.exists(prog)


def _run_and_signal(sig, run):
    """Starts the network cases in their own session, waits (bounded) until
    the namespaces exist, then signals the whole process group as a terminal
    does for Ctrl-C.  Returns the exit status."""
    env = dict(os.environ, **{topology.RUN_ENV: run})
    p = subprocess.Popen([sys.executable, "-m", "pytest", os.path.join(HARNESS, "cases", "test_network.py"),
                          "--impl", "reference", "-n", "2", "-q", "-p", "no:randomly"] + ([] if sig else ["-k", "BCAST or SIZE"]),
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        deadline = time.monotonic() + 30.0
        while len(ours(run)) < 4 and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)   # polling /run/netns, bounded by the deadline
        assert ours(run), "the run made no namespace within 30 s (exit %s)" % p.poll()
        if sig is not None:
            os.killpg(p.pid, sig)
        out, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)
    return p.returncode, out.decode("utf-8", "replace")


@needs_net
@pytest.mark.skipif(not _adapter_ready(), reason="SKIP: the reference adapter is not built")
@pytest.mark.parametrize("sig", (None, signal.SIGINT, signal.SIGTERM), ids=("complete", "sigint", "sigterm"))
def test_run_leaves_nothing(sig):
    before = host_state()
    run = fresh_run_tag()
    rc, out = _run_and_signal(sig, run)
    if sig is None:
        assert rc == 0, "the network cases failed against the reference:\n" + out[-3000:]
    assert ours(run) == [], "left behind after %s: %s\n%s" % (sig, ours(run), out[-2000:])
    after = host_state()
    added = sorted(set(after["links"]) - set(before["links"]))
    assert added == [], "host interfaces left behind: %s" % added


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0,
                    reason="SKIP: needs root and setpriv to run as an unprivileged user")
@pytest.mark.skipif(not _adapter_ready(), reason="SKIP: the reference adapter is not built")
def test_not_root_is_skip_with_reason():
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        sys.executable, "-m", "pytest", os.path.join(HARNESS, "cases", "test_network.py"),
                        "--impl", "reference", "-n", "0", "-q", "-rs"],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                       env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out[-3000:]
    assert "passed" not in out and "failed" not in out, out[-3000:]
    assert "needs root to make network namespaces" in out, out[-3000:]


